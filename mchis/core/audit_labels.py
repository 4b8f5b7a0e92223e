"""What each audit action and object type is called in words (issue 13 item 2): the log shows "Duyệt đề xuất",
not `child.request_approve`, and a search for "duyệt" (with or without accents) finds those entries.

A new `log_event(action=...)` code without a label here is shown as its code; the test
mchis/core/tests/test_audit_labels.py lists every action code written in the source and fails on any missing.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from django.utils.translation import gettext, gettext_noop

from .text import fold

ACTION_LABELS: dict[str, str] = {
    "analytics.favorite_save": gettext_noop("Lưu mục ưa thích (phân tích)"),
    "analytics.favorite_delete": gettext_noop("Xóa mục ưa thích (phân tích)"),
    "analytics.dashboard_save": gettext_noop("Sửa bảng điều khiển"),
    "analytics.rebuild": gettext_noop("Tính lại kho số liệu phân tích"),
    "access.denied": gettext_noop("Truy cập bị từ chối"),
    "ops.backup": gettext_noop("Sao lưu dữ liệu"),
    "ops.drill": gettext_noop("Diễn tập khôi phục dữ liệu"),
    "ops.restore": gettext_noop("Khôi phục dữ liệu từ bản sao lưu"),
    "ops.verify": gettext_noop("Kiểm tra bản sao lưu"),
    "account.change_role": gettext_noop("Đổi vai trò tài khoản"),
    "account.create": gettext_noop("Tạo tài khoản"),
    "account.deactivate": gettext_noop("Khóa tài khoản"),
    "account.otp_enrol": gettext_noop("Đăng ký xác thực hai lớp"),
    "account.security_key_add": gettext_noop("Thêm khóa bảo mật"),
    "account.security_key_revoke": gettext_noop("Thu hồi khóa bảo mật"),
    "auth.security_key_login": gettext_noop("Đăng nhập bằng khóa bảo mật"),
    "auth.security_key_step_up": gettext_noop("Xác thực lại bằng khóa bảo mật"),
    "auth.security_key_failed.register": gettext_noop("Thêm khóa bảo mật không thành công"),
    "auth.security_key_failed.verify": gettext_noop("Xác thực bằng khóa bảo mật không thành công"),
    "account.otp_enrol_code": gettext_noop("Cấp mã đăng ký xác thực hai lớp"),
    "auth.otp_enrol_failed": gettext_noop("Đăng ký xác thực hai lớp không thành công"),
    "child.merge_notice": gettext_noop("Thông báo gộp hồ sơ liên xã"),
    "child.verify_failed": gettext_noop("Xác minh số định danh không thực hiện được"),
    "document.sign": gettext_noop("Ký số văn bản"),
    "document.withdraw": gettext_noop("Thu hồi văn bản đã ký số"),
    "document.verify": gettext_noop("Kiểm tra văn bản ký số"),
    "document.verify_refused": gettext_noop("Từ chối kiểm tra văn bản ký số"),
    "evidence.sweep": gettext_noop("Dọn tệp minh chứng không dùng"),
    "register.excel_expire": gettext_noop("Hủy tệp Excel quá hạn xác nhận"),
    "account.otp_reset": gettext_noop("Đặt lại xác thực hai lớp"),
    "account.password_change": gettext_noop("Đổi mật khẩu"),
    "account.password_reset": gettext_noop("Cấp lại mật khẩu"),
    "account.reactivate": gettext_noop("Mở lại tài khoản"),
    "account.unlock": gettext_noop("Mở khóa đăng nhập"),
    "admin_units.load": gettext_noop("Nạp danh mục đơn vị hành chính"),
    "audit.escalate": gettext_noop("Báo cáo cấp trên việc phúc tra quá hạn"),
    "audit_campaign.close": gettext_noop("Kết thúc đợt phúc tra"),
    "audit_campaign.create": gettext_noop("Tạo đợt phúc tra"),
    "audit_campaign.sample": gettext_noop("Chọn mẫu phúc tra"),
    "audit_campaign.sign": gettext_noop("Ký biên bản phúc tra"),
    "audit_sample.record": gettext_noop("Ghi kết quả đối chiếu mẫu"),
    "auth.ip_unlock": gettext_noop("Mở khóa địa chỉ IP"),
    "auth.lockout": gettext_noop("Tạm khóa đăng nhập"),
    "auth.login": gettext_noop("Đăng nhập"),
    "auth.login_failed": gettext_noop("Đăng nhập sai"),
    "auth.logout": gettext_noop("Đăng xuất"),
    "auth.logout_everywhere": gettext_noop("Đăng xuất mọi nơi"),
    "auth.logout_idle": gettext_noop("Tự đăng xuất do không hoạt động"),
    "auth.otp_login": gettext_noop("Xác thực hai lớp khi đăng nhập"),
    "auth.otp_step_up": gettext_noop("Xác thực lại cho thao tác quan trọng"),
    "auth.otp_failed.login": gettext_noop("Mã xác thực sai khi đăng nhập"),
    "auth.otp_failed.step_up": gettext_noop("Mã xác thực sai ở thao tác quan trọng"),
    "catalog.create": gettext_noop("Tạo danh mục"),
    "catalog.load": gettext_noop("Nạp danh mục"),
    "catalog_item.add": gettext_noop("Thêm mục danh mục"),
    "catalog_item.retire": gettext_noop("Ngừng dùng mục danh mục"),
    "catalog_item.update": gettext_noop("Sửa mục danh mục"),
    "child.approve": gettext_noop("Duyệt hồ sơ trẻ em"),
    "child.create": gettext_noop("Thêm hồ sơ trẻ em"),
    "child.change": gettext_noop("Sửa hồ sơ trẻ em"),
    "child.delete": gettext_noop("Xóa hồ sơ trẻ em"),
    "child.merge": gettext_noop("Gộp hồ sơ trùng"),
    "child.correction_file": gettext_noop("Gửi yêu cầu chỉnh sửa"),
    "child.correction_respond": gettext_noop("Trả lời yêu cầu chỉnh sửa"),
    "child.import": gettext_noop("Nhập hồ sơ từ sổ cũ"),
    "child.read": gettext_noop("Xem hồ sơ trẻ em"),
    "child.export": gettext_noop("Xuất danh sách trẻ em"),
    "child.propose_create": gettext_noop("Đề xuất thêm trẻ"),
    "child.propose_change": gettext_noop("Đề xuất sửa hồ sơ"),
    "child.propose_delete": gettext_noop("Đề xuất xóa hồ sơ"),
    "child.propose_merge": gettext_noop("Đề xuất gộp hồ sơ"),
    "child.request_approve": gettext_noop("Duyệt đề xuất"),
    "child.request_reject": gettext_noop("Từ chối đề xuất"),
    "child.request_return": gettext_noop("Trả lại đề xuất để sửa"),
    "child.request_evidence": gettext_noop("Tải minh chứng của đề xuất"),
    "child.request_resubmit": gettext_noop("Gửi lại đề xuất đã sửa"),
    "child.verify_request": gettext_noop("Yêu cầu xác minh số định danh"),
    "child.verify_result": gettext_noop("Kết quả xác minh số định danh"),
    "client.call": gettext_noop("Phần mềm kết nối gọi API"),
    "client.rejected": gettext_noop("Phần mềm kết nối bị từ chối"),
    "corrective_task.complete": gettext_noop("Hoàn thành nhiệm vụ khắc phục"),
    "demo.generate": gettext_noop("Tạo dữ liệu mô phỏng"),
    "duplicate.confirm": gettext_noop("Xác nhận hồ sơ trùng"),
    "duplicate.reject": gettext_noop("Xác nhận không trùng"),
    "duplicate.scan": gettext_noop("Quét hồ sơ trùng"),
    "evidence.read": gettext_noop("Xem tệp minh chứng"),
    "export": gettext_noop("Xuất dữ liệu"),
    "finding.accept": gettext_noop("Chấp nhận cảnh báo chất lượng"),
    "form.load": gettext_noop("Nạp mẫu báo cáo"),
    "notification.create": gettext_noop("Gửi thông báo"),
    "notification.preference": gettext_noop("Đổi cách nhận thông báo"),
    "notification.read": gettext_noop("Đọc thông báo"),
    "register.api_batch": gettext_noop("Nhận dữ liệu sổ qua API"),
    "register.excel_batch": gettext_noop("Ghi dữ liệu sổ từ Excel"),
    "register.excel_discard": gettext_noop("Hủy tệp Excel đã tải lên"),
    "register.excel_preview": gettext_noop("Xem trước tệp Excel"),
    "register.web_batch": gettext_noop("Nhập dữ liệu sổ trên web"),
    "register.period_lock": gettext_noop("Khóa kỳ số liệu"),
    "register.period_unlock": gettext_noop("Mở khóa kỳ số liệu"),
    "register.void": gettext_noop("Hủy bản ghi sổ"),
    "exchange.delivered": gettext_noop("Gửi liên thông thành công"),
    "exchange.failed": gettext_noop("Gửi liên thông không thành công"),
    "exchange.replayed": gettext_noop("Gửi lại mục liên thông lỗi"),
    "exchange.key_rotated": gettext_noop("Xoay khóa ký liên thông"),
    "exchange.backfilled": gettext_noop("Nạp dữ liệu sẵn có vào hàng đợi liên thông"),
    "exchange.feed_read": gettext_noop("Ứng dụng Sổ SKBMTE điện tử đọc dữ liệu"),
    "handbook.consent_given": gettext_noop("Ghi nhận đồng ý chia sẻ với Sổ SKBMTE điện tử"),
    "handbook.consent_withdrawn": gettext_noop("Rút đồng ý chia sẻ với Sổ SKBMTE điện tử"),
    "register.write": gettext_noop("Ghi dữ liệu sổ"),
    "report.edit": gettext_noop("Sửa số liệu báo cáo"),
    "report.remind": gettext_noop("Nhắc hạn báo cáo"),
    "report.submit": gettext_noop("Gửi báo cáo"),
    "report.recall": gettext_noop("Thu hồi báo cáo"),
    "report.approve": gettext_noop("Duyệt báo cáo"),
    "report.return": gettext_noop("Trả lại báo cáo"),
    "report.request_unapproval": gettext_noop("Đề nghị hủy duyệt báo cáo"),
    "report.unapprove": gettext_noop("Hủy duyệt báo cáo"),
    "report.reopen": gettext_noop("Mở lại báo cáo để sửa"),
    "security.csrf_rejected": gettext_noop("Biểu mẫu bị từ chối (thiếu mã bảo vệ)"),
    "token.create": gettext_noop("Cấp khóa kết nối"),
    "token.revoke": gettext_noop("Thu hồi khóa kết nối"),
    "unit.create": gettext_noop("Tạo đơn vị"),
    "unit.deactivate": gettext_noop("Ngừng hoạt động đơn vị"),
    "unit.move": gettext_noop("Chuyển đơn vị cấp trên"),
    "unit.update": gettext_noop("Sửa đơn vị"),
    "village.confirm": gettext_noop("Xác nhận thôn, tổ dân phố"),
    "village.create": gettext_noop("Thêm thôn, tổ dân phố"),
    "village.deactivate": gettext_noop("Ngừng dùng thôn, tổ dân phố"),
    "village.update": gettext_noop("Sửa thôn, tổ dân phố"),
}

OBJECT_LABELS: dict[str, str] = {
    "ops.run": gettext_noop("Sao lưu / kiểm tra / diễn tập"),
    "document": gettext_noop("Văn bản ký số"),
    "account": gettext_noop("Tài khoản"),
    "admin_unit": gettext_noop("Đơn vị hành chính"),
    "api_client": gettext_noop("Phần mềm kết nối"),
    "audit_campaign": gettext_noop("Đợt phúc tra"),
    "audit_sample": gettext_noop("Mẫu phúc tra"),
    "catalog": gettext_noop("Danh mục"),
    "catalog_item": gettext_noop("Mục danh mục"),
    "change_request": gettext_noop("Đề xuất"),
    "request": gettext_noop("Đề xuất"),
    "child": gettext_noop("Hồ sơ trẻ em"),
    "correction_request": gettext_noop("Yêu cầu chỉnh sửa"),
    "corrective_task": gettext_noop("Nhiệm vụ khắc phục"),
    "demo_run": gettext_noop("Dữ liệu mô phỏng"),
    "evidence": gettext_noop("Minh chứng"),
    "notification": gettext_noop("Thông báo"),
    "form": gettext_noop("Mẫu báo cáo"),
    "ip_address": gettext_noop("Địa chỉ IP"),
    "quality_duplicate": gettext_noop("Cặp hồ sơ nghi trùng"),
    "quality_finding": gettext_noop("Cảnh báo chất lượng"),
    "report": gettext_noop("Báo cáo"),
    "analytics_favorite": gettext_noop("Mục ưa thích (phân tích)"),
    "analytics_dashboard": gettext_noop("Bảng điều khiển"),
    "analytics_store": gettext_noop("Kho số liệu phân tích"),
    "report_notice": gettext_noop("Thông báo báo cáo"),
    "unit": gettext_noop("Đơn vị"),
    "village": gettext_noop("Thôn, tổ dân phố"),
}


def action_label(code: str) -> str:
    return gettext(ACTION_LABELS[code]) if code in ACTION_LABELS else code


def object_label(code: str) -> str:
    return gettext(OBJECT_LABELS[code]) if code in OBJECT_LABELS else code


def actions_matching(text: str) -> set[str]:
    """Action codes whose label (Vietnamese, or the UI language) contains the words typed, accents optional."""
    key = fold(text)
    if not key:
        return set()
    return {
        code for code, label in ACTION_LABELS.items() if key in fold(label) or key in fold(gettext(label))
    }


# --- the values inside an entry's changes, in words (issue 13 item 2) ----------------------------------------

# Internal values kept in the log as evidence but never shown on a page (a random seed, checksums).
HIDDEN_CHANGE_KEYS = frozenset(
    {"seed", "checksum", "snapshot_checksum", "minutes_sha256", "sha256", "prev_hash"}
)


@lru_cache(maxsize=1)
def _choice_labels() -> dict[str, dict[str, dict[Any, Any]]]:
    """field name → model name → {stored value: label}, for every field with choices of the project's models.

    Read from the app registry at run time (core imports no domain app)."""
    from django.apps import apps

    labels: dict[str, dict[str, dict[Any, Any]]] = {}
    for model in apps.get_models():
        if not model.__module__.startswith("mchis."):
            continue
        for f in model._meta.get_fields():
            choices = getattr(f, "flatchoices", None)
            if choices:
                labels.setdefault(f.name, {})[model._meta.model_name or ""] = dict(choices)
    return labels


def change_value(object_type: str, field: str, value: Any) -> Any:
    """A stored value of a change as a person reads it: a choice code becomes its label (the entry's own
    model first, then any model whose field of that name knows the code)."""
    if not isinstance(value, str | int) or isinstance(value, bool) or value == "":
        return value
    by_model = _choice_labels().get(field)
    if not by_model:
        return value
    own = by_model.get(object_type.replace("_", ""), {})
    if value in own:
        return str(own[value])
    for choices in by_model.values():
        if value in choices:
            return str(choices[value])
    return value


def change_rows(object_type: str, changes: Any) -> list[tuple[str, Any, Any, bool]]:
    """(field, before, after, is_pair) rows of an entry's changes, values in words, internals left out."""
    if not isinstance(changes, dict):
        return []
    rows = []
    for field, pair in changes.items():
        if field in HIDDEN_CHANGE_KEYS:
            continue
        if isinstance(pair, list | tuple) and len(pair) == 2:
            before, after = (change_value(object_type, field, v) for v in pair)
            rows.append((field, before, after, True))
        else:
            rows.append((field, change_value(object_type, field, pair), None, False))
    return rows
