import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Create the 'admin' superuser once. ADMIN_PASSWORD sets its password; otherwise one is generated and printed."

    def handle(self, *args, **options):
        User = get_user_model()
        username = os.environ.get("ADMIN_USERNAME", "admin")
        password = os.environ.get("ADMIN_PASSWORD", "")
        user = User.objects.filter(username=username).first()
        if user is not None:
            if password:
                user.set_password(password)
                user.save(update_fields=["password"])
                self.stdout.write(f"Superuser '{username}' exists; password set from ADMIN_PASSWORD.")
            else:
                self.stdout.write(f"Superuser '{username}' exists (set ADMIN_PASSWORD to change its password).")
            return
        generated = not password
        password = password or secrets.token_urlsafe(12)
        User.objects.create_superuser(username=username, email="", password=password)
        banner = "=" * 60
        self.stdout.write(banner)
        self.stdout.write(f"  Superuser created: {username}")
        if generated:
            self.stdout.write(f"  Password (shown once): {password}")
        self.stdout.write(banner)
