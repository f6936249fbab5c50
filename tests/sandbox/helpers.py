"""Wire samples and assertions shared by the sandbox tests."""

STATUS = {"status_no": "VIP", "status_name": "Khách VIP"}
TYPE = {"type_no": "LE", "type_name": "Khách lẻ"}
GROUP = {"group_no": "HN", "group_name": "Hà Nội", "group_description": "Miền Bắc"}
FIELD = {"field_no": "NGAY_SINH", "field_name": "Ngày sinh", "field_type": "date"}
CUSTOMER = {
    "customer_no": "KH001",
    "customer_name": "Nguyễn Văn An",
    "customer_phones": ["0912345678"],
    "customer_address": "12 Hàng Bạc, Hà Nội",
    "customer_email": "an@example.vn",
    "customer_status_code": "VIP",
    "customer_type_code": "LE",
    "customer_group_name": "Hà Nội",
    "fileds": [{"field_key": "NGAY_SINH", "field_value": "1990-01-02"}],
}


def password_grant(client, username="sandbox", password="sandbox-password"):
    return client.post(
        "/sandbox/token",
        {"grant_type": "password", "username": username, "password": password},
    )


def ok(data):
    return {"status": 1, "error": 0, "message": "success", "data": data}


def rejected(response, error: int) -> str:
    """Assert ``response`` is the envelope of a rejection with ``error``; return its message."""
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == 0
    assert body["error"] == error
    assert body["data"] is None
    assert body["message"]
    return body["message"]
