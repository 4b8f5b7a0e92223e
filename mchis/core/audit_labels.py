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
    "analytics.population_load": gettext_noop("Nạp số liệu dân số (mẫu số)"),
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
    "child.conflict_resolve": gettext_noop("Giải quyết xung đột dữ liệu nhập ngoại tuyến"),
    "child.request_reject": gettext_noop("Từ chối đề xuất"),
    "child.request_return": gettext_noop("Trả lại đề xuất để sửa"),
    "child.request_evidence": gettext_noop("Tải minh chứng của đề xuất"),
    "child.request_resubmit": gettext_noop("Gửi lại đề xuất đã sửa"),
    "child.verify_request": gettext_noop("Yêu cầu xác minh số định danh"),
    "child.verify_result": gettext_noop("Kết quả xác minh số định danh"),
    "client.call": gettext_noop("Phần mềm kết nối gọi API"),
    "client.rejected": gettext_noop("Phần mềm kết nối bị từ chối"),
    "client.signature_refused": gettext_noop("Từ chối dữ liệu gửi đến: chữ ký số thiếu hoặc sai"),
    "corrective_task.complete": gettext_noop("Hoàn thành nhiệm vụ khắc phục"),
    "demo.generate": gettext_noop("Tạo dữ liệu mô phỏng"),
    "demo.generate_national": gettext_noop("Tạo dữ liệu mô phỏng quy mô toàn quốc"),
    "duplicate.confirm": gettext_noop("Xác nhận hồ sơ trùng"),
    "duplicate.reject": gettext_noop("Xác nhận không trùng"),
    "duplicate.scan": gettext_noop("Quét hồ sơ trùng"),
    "evidence.read": gettext_noop("Xem tệp minh chứng"),
    "export": gettext_noop("Xuất dữ liệu"),
    "finding.accept": gettext_noop("Chấp nhận cảnh báo chất lượng"),
    "form.load": gettext_noop("Nạp mẫu báo cáo"),
    "notification.create": gettext_noop("Gửi thông báo"),
    "offline.item_receive": gettext_noop("Nhận mục nhập ngoại tuyến"),
    "offline.record_conflict": gettext_noop("Giữ bản sửa sổ ngoại tuyến bị xung đột"),
    "offline.record_conflict_resolve": gettext_noop("Giải quyết xung đột bản ghi sổ"),
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
    "exchange.keys_encrypted": gettext_noop("Mã hóa khóa ký liên thông"),
    "exchange.key_rotated": gettext_noop("Xoay khóa ký liên thông"),
    "exchange.backfilled": gettext_noop("Nạp dữ liệu sẵn có vào hàng đợi liên thông"),
    "exchange.feed_read": gettext_noop("Ứng dụng Sổ SKBMTE điện tử đọc dữ liệu"),
    "handbook.consent_given": gettext_noop("Ghi nhận đồng ý chia sẻ với Sổ SKBMTE điện tử"),
    "handbook.consent_withdrawn": gettext_noop("Rút đồng ý chia sẻ với Sổ SKBMTE điện tử"),
    "register.write": gettext_noop("Ghi dữ liệu sổ"),
    "report.edit": gettext_noop("Sửa số liệu báo cáo"),
    "report.remind": gettext_noop("Nhắc hạn báo cáo"),
    "portal.publish": gettext_noop("Công bố số liệu thống kê"),
    "portal.revise": gettext_noop("Cập nhật số liệu đã công bố"),
    "portal.unpublish": gettext_noop("Ngừng công bố số liệu"),
    "portal.follow_unapprove": gettext_noop(
        "Đánh dấu số liệu đã công bố đang rà soát (báo cáo bị hủy duyệt)"
    ),
    "portal.follow_approve": gettext_noop("Tính lại số liệu đã công bố (báo cáo được duyệt)"),
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
    "token.signing_keys": gettext_noop("Đăng ký khóa ký của phần mềm kết nối"),
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
    "offline_item": gettext_noop("Mục nhập ngoại tuyến"),
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
    "publication": gettext_noop("Đợt công bố số liệu"),
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


# The names of the fields an entry's changes carry, as a person reads them (issue 13): a model field's own
# verbose_name wins when it has one; these cover the fields without one and the keys that are not model fields.
FIELD_LABELS = {
    "status": gettext_noop("Trạng thái"),
    "full_name": gettext_noop("Họ và tên"),
    "sex": gettext_noop("Giới tính"),
    "dob": gettext_noop("Ngày sinh"),
    "date_of_birth": gettext_noop("Ngày sinh"),
    "mother_name": gettext_noop("Họ tên mẹ"),
    "mother_dob": gettext_noop("Ngày sinh của mẹ"),
    "mother_personal_id": gettext_noop("Số định danh của mẹ"),
    "father_name": gettext_noop("Họ tên cha"),
    "father_dob": gettext_noop("Ngày sinh của cha"),
    "father_personal_id": gettext_noop("Số định danh của cha"),
    "guardian_name": gettext_noop("Họ tên người giám hộ"),
    "guardian_dob": gettext_noop("Ngày sinh của người giám hộ"),
    "guardian_personal_id": gettext_noop("Số định danh của người giám hộ"),
    "guardian_relationship": gettext_noop("Quan hệ với trẻ"),
    "personal_id": gettext_noop("Số định danh cá nhân"),
    "ethnicity_code": gettext_noop("Dân tộc"),
    "village": gettext_noop("Thôn, tổ dân phố"),
    "address": gettext_noop("Địa chỉ"),
    "address_detail": gettext_noop("Địa chỉ chi tiết"),
    "commune": gettext_noop("Xã, phường"),
    "unit": gettext_noop("Đơn vị"),
    "facility": gettext_noop("Cơ sở y tế"),
    "username": gettext_noop("Tên đăng nhập"),
    "email": gettext_noop("Thư điện tử"),
    "role": gettext_noop("Vai trò"),
    "is_active": gettext_noop("Đang hoạt động"),
    "active": gettext_noop("Đang dùng"),
    "password": gettext_noop("Mật khẩu"),
    "reason": gettext_noop("Lý do"),
    "note": gettext_noop("Ghi chú"),
    "comment": gettext_noop("Nhận xét"),
    "month": gettext_noop("Tháng"),
    "period_start": gettext_noop("Kỳ báo cáo"),
    "version": gettext_noop("Phiên bản"),
    "valid_from": gettext_noop("Hiệu lực từ"),
    "valid_to": gettext_noop("Hiệu lực đến"),
    "code": gettext_noop("Mã"),
    "name": gettext_noop("Tên"),
    "name_vi": gettext_noop("Tên tiếng Việt"),
    "name_en": gettext_noop("Tên tiếng Anh"),
    "kind": gettext_noop("Loại"),
    "method": gettext_noop("Cách thức"),
    "locked": gettext_noop("Đã khóa"),
    "created": gettext_noop("Đã tạo"),
    "removed": gettext_noop("Đã xóa"),
    "withdrawn": gettext_noop("Đã rút"),
    "since": gettext_noop("Từ ngày"),
    "path": gettext_noop("Đường dẫn"),
    "field": gettext_noop("Trường"),
    "key": gettext_noop("Khóa"),
    "kid": gettext_noop("Mã khóa ký"),
    "device": gettext_noop("Thiết bị xác thực"),
    "devices_removed": gettext_noop("Thiết bị xác thực đã gỡ"),
    "recovery_codes": gettext_noop("Mã khôi phục"),
    "enrolment_code": gettext_noop("Mã đăng ký"),
    "attempts": gettext_noop("Số lần thử"),
    "error": gettext_noop("Lỗi"),
    "detail": gettext_noop("Chi tiết"),
    "diff": gettext_noop("Khác biệt"),
    "pairs": gettext_noop("Số cặp"),
    "sample": gettext_noop("Mẫu"),
    "entries": gettext_noop("Số mục"),
    "tasks": gettext_noop("Nhiệm vụ"),
    "filters": gettext_noop("Bộ lọc"),
    "fix_deadline": gettext_noop("Hạn khắc phục"),
    "audited_unit": gettext_noop("Đơn vị được phúc tra"),
    "leader": gettext_noop("Lãnh đạo"),
    "merge_request": gettext_noop("Đề xuất gộp"),
    "lookup": gettext_noop("Tra cứu"),
    "population": gettext_noop("Dân số"),
    "origin": gettext_noop("Nguồn gốc trang"),
    "by": gettext_noop("Người thực hiện"),
    "about": gettext_noop("Về"),
    "expired": gettext_noop("Đã hết hạn"),
    "revoked_at": gettext_noop("Thời điểm thu hồi"),
    "pending": gettext_noop("Đang chờ"),
    "previous_retire_at": gettext_noop("Khóa cũ hết dùng lúc"),
    "valid_hours": gettext_noop("Hiệu lực (giờ)"),
    "code_system": gettext_noop("Hệ mã"),
    "locked_out": gettext_noop("Bị khóa do nhập sai"),
    "failed_attempt_records": gettext_noop("Lần đăng nhập sai"),
    "stray_files": gettext_noop("Tệp thừa"),
    "versioned": gettext_noop("Có phiên bản"),
    "ids": gettext_noop("Mã hồ sơ"),
    "event_date": gettext_noop("Ngày sự kiện"),
    "place": gettext_noop("Nơi"),
    "cause": gettext_noop("Nguyên nhân"),
    "icd10_code": gettext_noop("Mã ICD-10"),
    "birth_order": gettext_noop("Con thứ"),
    "weight_grams": gettext_noop("Cân nặng (gam)"),
    "weight_kg": gettext_noop("Cân nặng (kg)"),
    "height_cm": gettext_noop("Chiều cao (cm)"),
    "gestational_age_weeks": gettext_noop("Tuổi thai (tuần)"),
    "delivery_mode": gettext_noop("Cách đẻ"),
    "lmp_date": gettext_noop("Ngày kinh cuối"),
    "expected_delivery_date": gettext_noop("Ngày dự kiến sinh"),
    "visit_number": gettext_noop("Lần khám"),
    "outcome": gettext_noop("Kết quả"),
    "result": gettext_noop("Kết quả"),
    "title": gettext_noop("Tiêu đề"),
    "partner": gettext_noop("Đối tác"),
    "topic": gettext_noop("Loại dữ liệu"),
    "deadline_days": gettext_noop("Hạn (ngày)"),
    "severity": gettext_noop("Mức độ"),
    "rule_code": gettext_noop("Quy tắc"),
    "accepted_reason": gettext_noop("Lý do chấp nhận"),
    "not_duplicate_reason": gettext_noop("Lý do không trùng"),
    "withdrawal_reason": gettext_noop("Lý do rút"),
    "void_reason": gettext_noop("Lý do hủy"),
    "support_type_code": gettext_noop("Hình thức hỗ trợ"),
    "group_code": gettext_noop("Nhóm hoàn cảnh"),
    "start_date": gettext_noop("Từ ngày"),
    "end_date": gettext_noop("Đến ngày"),
    "description": gettext_noop("Mô tả"),
    "form_code": gettext_noop("Mẫu báo cáo"),
    "manual_values": gettext_noop("Ô nhập tay"),
    "warning_comment": gettext_noop("Giải trình cảnh báo"),
    "matches": gettext_noop("Khớp"),
    "observed_value": gettext_noop("Giá trị quan sát"),
    "system_value": gettext_noop("Giá trị trong hệ thống"),
    "corrective_actions": gettext_noop("Biện pháp khắc phục"),
    "scopes": gettext_noop("Phạm vi quyền"),
    "must_change_password": gettext_noop("Phải đổi mật khẩu"),
    "signed_by": gettext_noop("Người ký"),
    "signed_at": gettext_noop("Thời điểm ký"),
}


@lru_cache(maxsize=1)
def _verbose_names() -> dict[str, dict[str, Any]]:
    """field name → model name → the verbose_name a developer gave it (Django's default, the name with spaces,
    does not count)."""
    from django.apps import apps

    names: dict[str, dict[str, Any]] = {}
    for model in apps.get_models():
        if not model.__module__.startswith("mchis."):
            continue
        for f in model._meta.get_fields():
            verbose = getattr(f, "verbose_name", None)
            if verbose is not None and str(verbose) != f.name.replace("_", " "):
                names.setdefault(f.name, {})[model._meta.model_name or ""] = verbose
    return names


def field_label(object_type: str, field: str) -> str:
    """A changed field's name in words, in the UI language: the entry's model's verbose_name, the shared label,
    any other model's verbose_name, else the stored name."""
    by_model = _verbose_names().get(field, {})
    own = by_model.get(object_type.replace("_", ""))
    if own is not None:
        return str(own)
    if field in FIELD_LABELS:
        return gettext(FIELD_LABELS[field])
    if by_model:
        return str(next(iter(by_model.values())))
    return field


def change_rows(object_type: str, changes: Any) -> list[tuple[str, Any, Any, bool]]:
    """(field label, before, after, is_pair) rows of an entry's changes, values in words, internals left out."""
    if not isinstance(changes, dict):
        return []
    rows = []
    for field, pair in changes.items():
        if field in HIDDEN_CHANGE_KEYS:
            continue
        if isinstance(pair, list | tuple) and len(pair) == 2:
            before, after = (change_value(object_type, field, v) for v in pair)
            rows.append((field_label(object_type, field), before, after, True))
        else:
            rows.append(
                (field_label(object_type, field), change_value(object_type, field, pair), None, False)
            )
    return rows
