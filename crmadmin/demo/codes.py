"""Demo reference codes, created through the services (so through the CRM and the audit log)."""

from django.contrib.auth.models import AbstractBaseUser

from crmadmin.codes import services
from crmadmin.kinds import REFERENCE_KINDS, FieldType

# kind slug → (code, name, details) as a Vietnamese-speaking team would set them up.
DEMO_CODES: dict[str, list[tuple[str, str, dict[str, str]]]] = {
    "statuses": [
        ("MOI", "Mới", {}),
        ("DANG_CHAM_SOC", "Đang chăm sóc", {}),
        ("VIP", "Khách VIP", {}),
        ("NGUNG", "Ngừng giao dịch", {}),
    ],
    "types": [
        ("CA_NHAN", "Cá nhân", {}),
        ("DOANH_NGHIEP", "Doanh nghiệp", {}),
    ],
    "groups": [
        ("HN", "Hà Nội", {"description": "Khách hàng khu vực Hà Nội và các tỉnh phía Bắc"}),
        ("HCM", "Hồ Chí Minh", {"description": "Khách hàng khu vực TP. Hồ Chí Minh và phía Nam"}),
        ("DN", "Đà Nẵng", {"description": "Khách hàng khu vực miền Trung"}),
    ],
    "fields": [
        ("NGAY_SINH", "Ngày sinh", {"field_type": FieldType.DATE, "description": ""}),
        (
            "GHI_CHU",
            "Ghi chú",
            {"field_type": FieldType.LONG_TEXT, "description": "Ghi chú của nhân viên chăm sóc"},
        ),
        ("WEBSITE", "Website", {"field_type": FieldType.URL, "description": ""}),
        (
            "SO_NHAN_VIEN",
            "Số nhân viên",
            {"field_type": FieldType.NUMBER, "description": "Quy mô doanh nghiệp"},
        ),
        ("NGUON", "Nguồn khách hàng", {"field_type": FieldType.TEXT, "description": ""}),
    ],
}


def seed(*, actor: AbstractBaseUser | None) -> int:
    """Create the demo codes the register does not hold yet; returns how many were created.

    Codes already in the register are left alone, so running it again is harmless.
    An upstream failure propagates: a demo that half-worked should say so.
    """
    created = 0
    for slug, codes in DEMO_CODES.items():
        kind = REFERENCE_KINDS[slug]
        for code, name, details in codes:
            if kind.model.objects.filter(code=code).exists():
                continue
            plain = {attr: str(value) for attr, value in details.items()}
            services.code_create(kind=kind, actor=actor, code=code, name=name, **plain)
            created += 1
    return created
