"""The role × action matrix (R-SEC-02): documented from the code, and admins hold no business-data write.

docs/permissions.md is generated from `mchis.accounts.permissions.MATRIX`; after changing MATRIX run

    python -m mchis.core.tests.test_permission_matrix

to rewrite it. The test fails while the document is out of date.
"""

from __future__ import annotations

import sys
from pathlib import Path

from mchis.accounts.permissions import CRITICAL_ACTIONS, MACHINE_ACTIONS, MATRIX
from mchis.accounts.roles import Role

DOC = Path(__file__).resolve().parents[3] / "docs" / "permissions.md"

# Admin roles configure the system; they may *see* things, and act only on configuration (R-SEC-02).
ADMIN_ROLES = frozenset({Role.UNIT_ADMIN, Role.SYSTEM_ADMIN})
CONFIGURATION_DOMAINS = frozenset({"catalog", "unit", "village", "account", "token", "audit_log", "form"})
READ_VERBS = frozenset({"view"})

DOMAIN_TITLES = {
    "catalog": "Danh mục dùng chung",
    "unit": "Đơn vị báo cáo",
    "village": "Thôn, tổ dân phố",
    "account": "Tài khoản",
    "token": "Máy khách tích hợp (token)",
    "audit_log": "Nhật ký hệ thống",
    "child": "Quản lý thông tin trẻ em (QĐ 3978)",
    "quality": "Chất lượng dữ liệu",
    "audit_campaign": "Phúc tra",
    "register": "Sổ sách SKBMTE/SKSS",
    "sync": "Đồng bộ dữ liệu",
    "report": "Báo cáo thống kê",
    "form": "Mẫu biểu báo cáo",
    "handbook": "Sổ theo dõi SKBMTE điện tử (liên thông)",
    "ops": "Vận hành hệ thống (giám sát)",
    "portal": "Cổng thống kê công khai",
}


def admin_business_writes() -> list[str]:
    """`role: action` pairs where an admin role holds something other than configuration or a read."""
    found = []
    for action, roles in MATRIX.items():
        domain, _, verb = action.partition(".")
        if domain in CONFIGURATION_DOMAINS or verb in READ_VERBS:
            continue
        found += [f"{role.value}: {action}" for role in sorted(roles & ADMIN_ROLES)]
    return found


def render() -> str:
    roles = list(Role)
    lines = [
        "# Ma trận phân quyền (vai trò × thao tác)",
        "",
        "<!-- Generated from mchis.accounts.permissions.MATRIX by "
        "`python -m mchis.core.tests.test_permission_matrix`. Do not edit by hand. -->",
        "",
        "Quyền được quyết định ở hai nơi, mỗi nơi một lần (R-SEC-01, R-SEC-02):",
        "",
        "* **Phạm vi (đối tượng nào)**: `mchis.core.scoping` - mỗi tài khoản chỉ thấy đơn vị của mình và "
        "các đơn vị cấp dưới; ngoài phạm vi và không tồn tại đều trả 404.",
        "* **Thao tác (được làm gì)**: bảng dưới đây, `mchis.accounts.permissions.MATRIX`, "
        "kiểm tra bằng `can()` / `require()`.",
        "",
        "Quản trị (hệ thống, đơn vị) cấu hình hệ thống và danh mục nhưng không có quyền ghi dữ liệu nghiệp vụ "
        "(trẻ em, sổ sách, báo cáo, chất lượng); `test_r_sec_02_admins_hold_no_business_data_write` kiểm tra "
        "điều này. Máy khách tích hợp (token) không có vai trò: quyền của nó là danh sách `scopes` của token, "
        "nhưng chỉ trong các thao tác của cột `token` (`MACHINE_ACTIONS`: xem, xuất, và nhận lô dữ liệu sổ sách). "
        "Mọi thao tác khác là việc của một người dùng thật (R-SEC-02): token bị từ chối 403 `person_required`. "
        "Xem docs/decisions/0030-machine-clients-are-not-people.md.",
        "",
        "## Vai trò",
        "",
        "| Mã | Vai trò |",
        "|---|---|",
        *[f"| `{role.value}` | {role.label} |" for role in roles],
        "",
        "## Ma trận",
        "",
        "✔ = được phép; 🔐 = thao tác quan trọng, cần xác thực hai lớp trong 5 phút gần nhất (R-SEC-04).",
        "",
        "| Thao tác | " + " | ".join(f"`{role.value}`" for role in roles) + " | `token` |",
        "|---|" + "---|" * (len(roles) + 1),
    ]
    current = None
    for action in sorted(
        MATRIX,
        key=lambda a: (
            list(DOMAIN_TITLES).index(a.split(".")[0]) if a.split(".")[0] in DOMAIN_TITLES else 99,
            a,
        ),
    ):
        domain = action.split(".")[0]
        if domain != current:
            current = domain
            lines.append(f"| **{DOMAIN_TITLES.get(domain, domain)}** |" + " |" * (len(roles) + 1))
        mark = " 🔐" if action in CRITICAL_ACTIONS else ""
        cells = ["✔" if role in MATRIX[action] else "" for role in roles]
        cells.append("✔" if action in MACHINE_ACTIONS else "")
        lines.append(f"| `{action}`{mark} | " + " | ".join(cells) + " |")
    lines += [
        "",
        "## Kiểm chứng tự động",
        "",
        "* `mchis/core/tests/test_permission_matrix.py` (R-SEC-02): tài liệu này khớp `MATRIX`; quản trị không "
        "giữ thao tác ghi dữ liệu nghiệp vụ (chỉ được cấu hình: danh mục, đơn vị, thôn, tài khoản, token, "
        "nhật ký, mẫu biểu, và xem).",
        "* `mchis/web/tests/test_jurisdiction_walk.py` (R-SEC-01): đi qua mọi URL và mọi thao tác OpenAPI "
        "bằng tài khoản (mỗi vai trò) và máy khách của tỉnh khác; không được lộ gì. Tuyến mới có tham số lạ "
        "làm test thất bại cho tới khi thêm bộ cung cấp (`PARAM_PROVIDERS`).",
        "* Truy cập bị từ chối (ngoài phạm vi hoặc không tồn tại) được ghi nhật ký `access.denied` (R-SEC-06).",
    ]
    extra = sorted(CRITICAL_ACTIONS - set(MATRIX))
    if extra:
        lines += [
            "",
            "## Thao tác quan trọng khác (cần xác thực lại, R-SEC-04)",
            "",
            "Kiểm tra trong service bằng `require_step_up()`, thêm vào quyền của thao tác gốc:",
            "",
            *[f"* `{action}`" for action in extra],
        ]
    lines += [
        "",
        "## Thao tác nào là quan trọng (cần xác thực lại)",
        "",
        "Một thao tác cần xác thực hai lớp trong 5 phút gần nhất khi nó:",
        "",
        "* sửa dữ liệu gốc đã duyệt: duyệt đề xuất sửa, xóa, gộp hồ sơ trẻ em; hủy duyệt báo cáo;",
        "* làm số liệu thành chính thức: duyệt báo cáo (số liệu được công nhận, tháng của sổ bị khóa);",
        "* trao hoặc đổi quyền của người khác: tạo tài khoản, đổi vai trò, đặt lại xác thực hai lớp;",
        "* đưa dữ liệu cá nhân ra khỏi hệ thống: xuất danh sách trẻ em (rà soát, gửi công an), xuất nhật ký;",
        "* ký văn bản có giá trị pháp lý: ký biên bản phúc tra.",
        "",
        "Không cần xác thực lại: đề xuất, duyệt hồ sơ trẻ mới (việc hằng ngày, sửa được bằng đề xuất khác), "
        "gửi và trả lại báo cáo, xem.",
        "",
        "Khi bị hỏi mã giữa chừng, biểu mẫu đang gửi được giữ trong phiên làm việc (tối đa 10 phút, không gồm "
        "tệp đính kèm) và được gửi lại nguyên như đã nhập ngay sau khi xác thực, nên thao tác hoàn tất mà "
        "không phải nhập lại (`mchis.core.stepup.step_up_redirect`).",
    ]
    return "\n".join(lines) + "\n"


def test_r_sec_02_permissions_doc_is_up_to_date():
    assert DOC.exists(), f"{DOC} missing: run python -m mchis.core.tests.test_permission_matrix"
    assert DOC.read_text(encoding="utf-8") == render(), (
        "docs/permissions.md is out of date with MATRIX: run python -m mchis.core.tests.test_permission_matrix"
    )


def test_r_sec_02_every_action_is_granted_to_someone_and_every_role_exists():
    for action, roles in MATRIX.items():
        assert roles, f"{action} is granted to nobody"
        assert roles <= set(Role), f"{action}: unknown role in {roles}"
        assert action.count(".") == 1, f"{action}: actions are named <domain>.<verb>"


def test_r_sec_02_machine_actions_are_reads_exports_and_register_ingestion():
    """Every write carries one real person (R-SEC-02): a token holds no workflow, decision or admin action."""
    assert set(MATRIX) >= MACHINE_ACTIONS
    writes = {a for a in MACHINE_ACTIONS if not a.endswith((".view", ".export"))}
    assert writes == {"register.write"}


def test_r_sec_02_admins_hold_no_business_data_write():
    assert admin_business_writes() == []


def test_r_sec_02_business_write_check_can_fail(monkeypatch):
    monkeypatch.setitem(MATRIX, "child.approve", frozenset({Role.LEADER, Role.SYSTEM_ADMIN}))
    monkeypatch.setitem(MATRIX, "register.write", frozenset({Role.UNIT_ADMIN}))
    assert admin_business_writes() == ["system_admin: child.approve", "unit_admin: register.write"]


def test_r_sec_02_each_role_can_do_what_the_rulebook_says():
    """Spot checks of R-SEC-02: collectors propose, leaders approve, auditors read and audit."""
    allowed = {role: {a for a, roles in MATRIX.items() if role in roles} for role in Role}
    assert {"child.propose", "child.view"} <= allowed[Role.COLLECTOR]
    assert "child.approve" not in allowed[Role.COLLECTOR]
    assert {"child.approve", "child.request_correction", "report.view"} <= allowed[Role.LEADER]
    assert "child.propose" not in allowed[Role.LEADER]
    assert {"audit_log.view", "audit_campaign.manage"} <= allowed[Role.AUDITOR]
    assert {"catalog.manage", "account.manage"} <= allowed[Role.SYSTEM_ADMIN]
    assert all(a.endswith(".view") for a in allowed[Role.VIEWER] if not a.endswith(".export"))


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    sys.stdout.write(f"wrote {DOC}\n")
