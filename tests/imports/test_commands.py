"""manage.py import_codes / import_customers: progress, summary, --dry-run."""

import pytest
from django.core.management import CommandError, call_command

from crmadmin.audit.models import AuditEntry
from crmadmin.codes.models import Status
from crmadmin.customers.models import Customer

from .conftest import csv_bytes


def test_codes_then_customers_adopted_from_the_command_line(codes, tmp_path, capsys):
    statuses = tmp_path / "statuses.csv"
    statuses.write_bytes(csv_bytes("code,name", "MOI,Mới", "DUNG,Ngừng"))
    call_command("import_codes", "statuses", str(statuses), mode="adopt", dry_run=True)
    out = capsys.readouterr().out
    assert "1 new, 0 changed, 1 unchanged, 0 with errors." in out
    assert "Dry run: nothing was changed." in out
    assert not Status.objects.filter(code="DUNG").exists()

    call_command("import_codes", "statuses", str(statuses), mode="adopt")
    out = capsys.readouterr().out
    assert "(Add to the register only): 1 imported, 0 failed." in out
    assert Status.objects.get(code="DUNG").name == "Ngừng"

    customers = tmp_path / "khach.csv"
    customers.write_bytes(
        csv_bytes(
            "Mã khách hàng,Tên khách hàng,Số điện thoại,Trạng thái,Loại khách hàng,Nhóm khách hàng",
            "KH001,An,0912345678,DUNG,CA_NHAN,HN",
            "KH002,Bình,0912345679,KHONG,CA_NHAN,HN",
        )
    )
    call_command("import_customers", str(customers), mode="adopt")
    out = capsys.readouterr().out
    assert "Columns: Mã khách hàng → code; Tên khách hàng → name" in out
    assert "rows checked (100%)" in out
    assert "1 new, 0 changed, 0 unchanged, 1 with errors." in out
    assert "row 3: Trạng thái: Unknown status “KHONG”: import it first." in out
    assert "1 imported, 0 failed." in out
    assert list(Customer.objects.values_list("code", flat=True)) == ["KH001"]
    assert AuditEntry.objects.filter(operation="register.adopt").count() == 2


def test_a_refused_file_or_unknown_columns_stop_the_command(codes, tmp_path):
    binary = tmp_path / "x.csv"
    binary.write_bytes(b"\x00\x01\x02" * 100)
    with pytest.raises(CommandError, match="binary data"):
        call_command("import_customers", str(binary), mode="sync")
    partial = tmp_path / "p.csv"
    partial.write_bytes(csv_bytes("code,name", "KH1,A"))
    with pytest.raises(CommandError, match="No column is “Phones”"):
        call_command("import_customers", str(partial), mode="sync")
