"""The `kangle` command.

    kangle up [--host H] [--port P] [--no-demo]   migrate, demo data if empty, web server + worker
    kangle worker                                 queued tasks and periodic jobs
    kangle demo [--scale street|district|city] [--seed N]
    kangle createadmin
    kangle check                                  database, migrations, field key, worker, disk space
    kangle backup DIR / kangle restore DIR        a consistent snapshot, and putting one back
    kangle manage …                               any Django management command
Other names (e.g. `kangle import-members`) are the management command of that name.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time

from django.db import DatabaseError

PASS_THROUGH = {"worker", "createadmin"}


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kangle.settings")
    from django.core.exceptions import ImproperlyConfigured

    try:
        import django

        django.setup()
    except ImproperlyConfigured as exc:
        sys.stderr.write(f"kangle: {exc}\n")
        raise SystemExit(2) from None


def port_in_use(host: str, port: int) -> bool:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError:
            return True
    return False


def web_workers() -> int:
    return max(2, min(4, (os.cpu_count() or 1) * 2))


class Supervised:
    """A child process of `kangle up`, restarted when it stops unexpectedly."""

    MAX_RESTARTS = 5  # within WINDOW seconds: more means it cannot run, and kangle stops
    WINDOW = 60.0

    def __init__(self, name: str, name_zh: str, argv: list[str], env: dict):
        self.name, self.name_zh, self.argv, self.env = name, name_zh, argv, env
        self.restarts: list[float] = []
        self.process = self._start()

    def _start(self) -> subprocess.Popen:
        return subprocess.Popen(self.argv, env=self.env)  # noqa: S603 - our own interpreter, fixed arguments

    def restart(self) -> bool:
        code = self.process.returncode
        moment = time.monotonic()
        self.restarts = [at for at in self.restarts if moment - at < self.WINDOW]
        if len(self.restarts) >= self.MAX_RESTARTS:
            sys.stderr.write(
                f"kangle: {self.name_zh}反复意外退出（退出码 {code}），正在停止 / the {self.name} keeps "
                f"stopping unexpectedly (exit {code}); stopping\n"
            )
            return False
        self.restarts.append(moment)
        sys.stderr.write(
            f"kangle: {self.name_zh}意外退出（退出码 {code}），正在重启 / the {self.name} stopped "
            f"unexpectedly (exit {code}); restarting it\n"
        )
        sys.stderr.flush()
        time.sleep(min(5.0, 0.5 * len(self.restarts)))
        self.process = self._start()
        return True


def up(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="kangle up", description="Set up and run kangle: web server and worker."
    )
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--no-demo", action="store_true", help="do not load demo data into an empty database")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)

    refusal = _port_refusal(args.host, args.port)
    if refusal:
        sys.stderr.write(refusal)
        return 2
    _setup_django()
    from kangle import demo
    from kangle.orgs.models import OrgUnit

    if not _prepare_database(load_demo=not args.no_demo, seed=args.seed):
        return 2
    _warn_about_loopback_base_url(args.host)
    env = dict(os.environ)
    children = [
        Supervised("web server", "网页服务", _gunicorn_command(args.host, args.port), env),
        Supervised("worker", "后台任务进程", [sys.executable, "-m", "kangle.cli", "worker"], env),
    ]
    url = f"http://{args.host if ':' not in args.host else f'[{args.host}]'}:{args.port}/"
    print(f"\nkangle 已启动 / kangle is running: {url}", flush=True)
    if OrgUnit.objects.filter(code=demo.STREET_CODE).exists():
        print(demo.logins_text(), flush=True)
    print("按 Ctrl-C 停止 / press Ctrl-C to stop", flush=True)
    exit_code = _supervise(children)
    print("kangle 已停止 / kangle stopped", flush=True)
    return exit_code


def _port_refusal(host: str, port: int) -> str:
    """Why ``kangle up`` cannot serve on this port ("" when it can)."""
    if not 0 < port < 65536:
        return f"kangle: 端口 {port} 无效 / port {port} is not valid\n"
    if port_in_use(host, port):
        return (
            f"kangle: 端口 {port} 已被占用，请换一个端口，例如 kangle up --port {port + 1}\n"
            f"kangle: port {port} on {host} is already in use; choose another, e.g. "
            f"kangle up --port {port + 1}\n"
        )
    return ""


def _prepare_database(*, load_demo: bool, seed: int) -> bool:
    """Migrate, collect static files and, into an empty database, load the demo; False after a failed check."""
    from django.core.management import call_command

    from kangle import demo
    from kangle.core import health
    from kangle.orgs.models import OrgUnit

    failed = [result for result in health.startup_checks(allow_pending_migrations=True) if not result.ok]
    if failed:
        sys.stderr.write(f"kangle: {failed[0].message}\n")
        return False
    print("kangle: 正在准备数据库 / migrating the database …", flush=True)
    call_command("migrate", interactive=False, verbosity=0)
    # Static files under hashed names, which whitenoise serves with far-future cache headers.
    call_command("collectstatic", interactive=False, verbosity=0)
    if load_demo and not OrgUnit.objects.exists():
        print("kangle: 正在生成演示数据 / loading demo data …", flush=True)
        demo.build(scale="street", seed=seed, progress=ProgressBar())
    return True


def _warn_about_loopback_base_url(host: str) -> None:
    from django.conf import settings

    from kangle.core.public_url import base_url_check, is_loopback

    if not is_loopback(f"http://{host}/") and is_loopback(settings.KANGLE_BASE_URL):
        # Served to other machines while texts would carry a loopback address: say so once at start-up.
        for warning in base_url_check():
            print(f"kangle: {warning.msg}", file=sys.stderr, flush=True)


def _gunicorn_command(host: str, port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "gunicorn",
        "kangle.wsgi:application",
        "--bind",
        f"{host}:{port}",
        "--workers",
        str(web_workers()),
        "--threads",
        "4",
        "--worker-class",
        "gthread",
        "--graceful-timeout",
        "10",
        "--log-level",
        "warning",
    ]


def _supervise(children: list[Supervised]) -> int:
    """Keep the children running until a signal (or a child that keeps crashing), then stop them."""
    stopping = False
    received: list[int] = []

    def stop(signum, _frame):
        nonlocal stopping
        stopping = True
        received.append(signum)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    exit_code = 0
    while not stopping:
        for child in children:
            if stopping or child.process.poll() is None:
                continue
            # A crashed child is started again; the other keeps running. Only a child that keeps
            # crashing right after its start stops kangle (restarting it would only hide the fault).
            if not child.restart():
                exit_code = 1
                stopping = True
        time.sleep(0.3)
    _stop_children(children, interrupted=received[:1] == [signal.SIGINT])
    return exit_code


def _stop_children(children: list[Supervised], *, interrupted: bool) -> None:
    if interrupted:
        # Ctrl-C in a terminal signals the whole process group: the children are already stopping.
        # Let them finish their current step; another signal now would make the worker leave mid-job.
        grace = time.monotonic() + 10
        while any(child.process.poll() is None for child in children) and time.monotonic() < grace:
            time.sleep(0.1)
    for child in children:
        if child.process.poll() is None:
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 15
    for child in children:
        try:
            child.process.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.process.kill()


class ProgressBar:
    """``[3/9] ███████░░░░░░░░░░░░░ 党员档案 / member files  12s`` — redrawn in place on a terminal, one line
    per step otherwise (a log file then reads as the list of steps with their start times)."""

    WIDTH = 24

    def __init__(self, stream=None):
        self.stream = stream or sys.stdout
        self.started = time.monotonic()
        self.tty = self.stream.isatty()

    def __call__(self, done: int, total: int, label: str) -> None:
        filled = round(self.WIDTH * done / total) if total else self.WIDTH
        bar = "█" * filled + "░" * (self.WIDTH - filled)
        line = f"[{done}/{total}] {bar} {label}  {time.monotonic() - self.started:.0f}s"
        if self.tty:
            self.stream.write("\r\033[K" + line + ("\n" if done == total else ""))
        else:
            self.stream.write(line + "\n")
        self.stream.flush()


def demo_command(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="kangle demo", description="Load deterministic demo data into an empty database."
    )
    parser.add_argument("--scale", choices=("street", "district", "city"), default="street")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args(argv)
    _setup_django()
    from django.core.management import call_command

    from kangle import demo
    from kangle.orgs.models import OrgUnit

    call_command("migrate", interactive=False, verbosity=0)
    if OrgUnit.objects.exists():
        sys.stderr.write(
            "kangle: 数据库中已有数据，演示数据只能载入空数据库 / the database is not empty; demo data loads only into an empty one\n"
        )
        return 2
    started = time.monotonic()
    ctx = demo.build(scale=args.scale, seed=args.seed, progress=ProgressBar())
    summary = ", ".join(f"{key}={value}" for key, value in ctx.summary.items())
    print(f"demo data ({args.scale}, seed {args.seed}) in {time.monotonic() - started:.1f}s: {summary}")
    print(demo.logins_text())
    return 0


def manage(argv: list[str]) -> int:
    _setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["kangle manage", *argv])
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(__doc__)
        return 0
    command, rest = argv[0], argv[1:]
    if command == "up":
        try:
            return up(rest)
        except DatabaseError as exc:
            reason = " ".join(str(exc).split())[:300]
            sys.stderr.write(f"kangle: 数据库错误 / database error: {reason}\n")
            return 2
    if command == "manage":
        return manage(rest)
    if command == "demo":
        return demo_command(rest)
    if command == "check":
        command = "check_health"  # Django's own `check` stays reachable as `kangle manage check`
    # Everything else is the management command of that name (dashes allowed: import-members).
    try:
        return manage([command.replace("-", "_") if command not in PASS_THROUGH else command, *rest])
    except DatabaseError as exc:
        # An unreachable or broken database is one line an operator can act on, not a traceback.
        reason = " ".join(str(exc).split())[:300]
        sys.stderr.write(
            f"kangle: 数据库错误，请检查 KANGLE_DATABASE_URL 与数据库服务 / database error; check "
            f"KANGLE_DATABASE_URL and that the database server runs: {reason}\n"
        )
        return 2
    except KeyboardInterrupt:
        # Ctrl-C before the command installed its own handler (e.g. while Django loads): a quiet stop.
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
