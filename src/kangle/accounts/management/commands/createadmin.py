import getpass

from django.core.management.base import BaseCommand, CommandError

from kangle.accounts.services import user_create
from kangle.core.errors import UserError


class Command(BaseCommand):
    help = "Create a superuser who sees the whole tree and can open the Django admin."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin")
        parser.add_argument("--phone", default="")
        parser.add_argument("--password", help="(non-interactive use; otherwise asked twice)")

    def handle(self, *args, username, phone, password, **options):
        if password is None:
            password = getpass.getpass("密码 / password: ")
            if password != getpass.getpass("再次输入 / again: "):
                raise CommandError("两次输入的密码不一致 / the passwords differ")
        try:
            user = user_create(actor=None, username=username, password=password, phone=phone)
        except UserError as exc:
            raise CommandError(str(exc)) from None
        user.is_superuser = True
        user.is_staff = True
        user.save(update_fields=["is_superuser", "is_staff"])
        self.stdout.write(f"超级管理员 {username} 已创建 / superuser {username} created")
