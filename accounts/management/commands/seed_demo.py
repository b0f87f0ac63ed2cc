"""Create demo logins and realistic Vietnamese demo customers. Safe to run twice."""

from __future__ import annotations

import random
from typing import Any

import phonenumbers
from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction
from tqdm import tqdm

from accounts.models import Customer, User
from accounts.normalize import email_equals
from accounts.services import customer_register
from consent.context import Channel, access_context
from consent.purposes import ACCOUNT_MANAGEMENT, COMPLIANCE_REVIEWER, SUPPORT
from consent.selectors import policy_current

DEMO_PASSWORD = "demo-Passw0rd!"  # noqa: S105  (demo data only)

STAFF = [
    ("admin@excelcrm.example", "Quản trị viên", None, True),
    ("support@excelcrm.example", "Nhân viên hỗ trợ", SUPPORT, False),
    ("accounts@excelcrm.example", "Quản lý tài khoản", ACCOUNT_MANAGEMENT, False),
    ("reviewer@excelcrm.example", "Kiểm soát viên", COMPLIANCE_REVIEWER, False),
]

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi",
          "Đỗ", "Hồ", "Ngô", "Dương", "Lý"]
MIDDLE = ["Văn", "Thị", "Hữu", "Đức", "Minh", "Ngọc", "Thanh", "Quốc", "Gia", "Xuân", "Thu"]
GIVEN = ["An", "Bình", "Châu", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hòa", "Hùng", "Hương",
         "Khánh", "Lan", "Linh", "Long", "Mai", "Nam", "Nga", "Phúc", "Phương", "Quân", "Quỳnh",
         "Sơn", "Tâm", "Thảo", "Trang", "Trí", "Tuấn", "Uyên", "Việt", "Vy", "Yến"]
TRADE = ["Thương mại", "Dịch vụ", "Xây dựng", "Công nghệ", "Vận tải", "Thực phẩm", "Dược phẩm",
         "May mặc", "Nội thất", "Du lịch", "Giáo dục", "Nông sản"]
PLACE = ["Sài Gòn", "Hà Nội", "Đà Nẵng", "Hải Phòng", "Cần Thơ", "Huế", "Nha Trang", "Biên Hòa",
         "Vũng Tàu", "Quy Nhơn", "Đà Lạt", "Hạ Long"]
FORM = ["Công ty TNHH", "Công ty Cổ phần", "Doanh nghiệp tư nhân"]
MOBILE_PREFIXES = ["90", "91", "93", "94", "96", "97", "98", "86", "88", "89", "70", "77", "81"]


def demo_phone(rng: random.Random, index: int) -> str:
    """Return a valid Vietnamese mobile number, unique for each index below ten million."""
    prefixes = MOBILE_PREFIXES[:]
    rng.shuffle(prefixes)
    for prefix in prefixes:
        candidate = f"+84{prefix}{index % 10_000_000:07d}"
        if phonenumbers.is_valid_number(phonenumbers.parse(candidate)):
            return candidate
    raise ValueError(f"no valid demo number for {index}")


def demo_customer(index: int) -> dict[str, str]:
    """Return the deterministic demo customer number ``index``."""
    rng = random.Random(index)
    family, middle, given = rng.choice(FAMILY), rng.choice(MIDDLE), rng.choice(GIVEN)
    business = f"{rng.choice(FORM)} {rng.choice(TRADE)} {rng.choice(PLACE)} {index:04d}"
    phone = demo_phone(rng, index)
    return {
        "business_name": business,
        "contact_person": f"{family} {middle} {given}",
        "phone": phone,
        "email": f"khachhang{index:05d}@example.com",
    }


class Command(BaseCommand):
    help = "Create demo staff, a reviewer and Vietnamese demo customers (idempotent)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--customers", type=int, default=50, help="Number of demo customers.")

    def handle(self, *args: Any, customers: int, **options: Any) -> None:
        policy = policy_current()
        with access_context(actor=None, channel=Channel.COMMAND, reason="seed_demo"):
            staff_users = [self._staff(*row) for row in STAFF]
            existing = set(
                User.objects.filter(email__startswith="khachhang").values_list("email", flat=True)
            )
            created = 0
            for index in tqdm(range(1, customers + 1), desc="customers", unit="customer",
                              disable=customers < 200 or options["verbosity"] == 0):
                data = demo_customer(index)
                if data["email"] in existing:
                    continue
                with transaction.atomic():
                    customer_register(
                        **data,
                        password=DEMO_PASSWORD,
                        language="vi",
                        policy_version=policy,
                        ip_address="127.0.0.1",
                        user_agent="seed_demo",
                    )
                created += 1
        self.stdout.write(self.style.SUCCESS(
            f"{created} demo customers created, {Customer.objects.count()} in total."
        ))
        self.stdout.write(f"Demo logins (password for all: {DEMO_PASSWORD}):")
        for user, (_, label, role, _superuser) in zip(staff_users, STAFF, strict=True):
            self.stdout.write(f"  {user.email:32} {label} ({role or 'superuser'}) → /admin/")
        self.stdout.write(
            f"  {demo_customer(1)['email']:32} demo customer → /account/login/"
        )
        if settings.DEBUG:
            from security.demo import demo_devices_ensure

            self.stdout.write(demo_devices_ensure(users=staff_users))

    def _staff(self, email: str, label: str, role: str | None, superuser: bool) -> User:
        user = User.objects.filter(email_equals("email", email)).first()
        if user is None:
            if superuser:
                user = User.objects.create_superuser(email, DEMO_PASSWORD)
            else:
                user = User.objects.create_user(email, DEMO_PASSWORD, is_staff=True)
        if role:
            user.groups.add(Group.objects.get(name=role))
        return user
