import mchis


def release(request: object) -> dict[str, str]:
    """The release number in every page's footer (R-OPS-03)."""
    return {"mchis_version": mchis.__version__}
