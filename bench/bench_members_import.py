"""Import of 20,000 member rows (preview + commit) against openpyxl only reading the same file.

    KANGLE_HOME=<dir> python bench/bench_members_import.py [--rows 20000]
    KANGLE_DATABASE_URL=postgresql://… KANGLE_HOME=<dir> python bench/bench_members_import.py

Builds the street-scale demo (康健街道) if the database is empty, writes an .xlsx of valid rows spread over
its communities and micro-grids, then times, in the same process:
  baseline  openpyxl read-only load + iterating every cell value of that file;
  ours      upload (parse + column guess) + preview (dry run) + commit (re-check + one transaction).
Prints one JSON line: rows/s of each and the ratio ours/baseline (the issue aims at ≥ 0.25).
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import sys
import time

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kangle.settings")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=20000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from openpyxl import Workbook, load_workbook

    from kangle import demo
    from kangle.members.importing import import_preview, import_upload, run_commit
    from kangle.members.models import HouseholdMember, ImportJob, Member, MemberWillingness, StatusChange
    from kangle.orgs.models import OrgKind, OrgUnit
    from kangle.orgs.selectors import subtree_q

    call_command("migrate", verbosity=0)
    if not OrgUnit.objects.filter(code=demo.STREET_CODE).exists():
        demo.build(scale="street")
    street = OrgUnit.objects.get(code=demo.STREET_CODE)
    # Leave the database as the demo made it: drop files of earlier runs of this script.
    previous = ImportJob.objects.filter(filename="bench-members.xlsx")
    old = Member.objects.filter(import_job__in=previous)
    for model in (Member.skills.through, MemberWillingness, HouseholdMember, StatusChange):
        model.objects.filter(member__in=old).delete()
    old._raw_delete(old.db)
    previous.delete()

    rng = random.Random(7)
    grids = list(OrgUnit.objects.filter(subtree_q(street.path), kind=OrgKind.MICROGRID).order_by("path"))
    communities = {c.path: c for c in OrgUnit.objects.filter(subtree_q(street.path), kind=OrgKind.COMMUNITY)}
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("名单")
    sheet.append(
        [
            "姓名",
            "性别",
            "出生年份",
            "手机号",
            "政治面貌",
            "工作单位",
            "单位党组织",
            "职务",
            "居住地址",
            "居民区",
            "微网格",
            "专业特长",
            "服务时间",
            "服务意愿",
            "每月可服务小时",
        ]
    )
    for n in range(args.rows):
        grid = rng.choice(grids)
        community = next(c for p, c in communities.items() if grid.path.startswith(p))
        sheet.append(
            [
                f"导入{n:05d}",
                rng.choice("男女"),
                rng.randint(1965, 2000),
                f"15{n % 10}{n:08d}",
                rng.choice(["正式党员", "预备党员"]),
                f"示例单位{n % 300}",
                f"示例单位{n % 300}党支部",
                "职员",
                f"康健路{n % 900}弄{n % 30}号",
                community.name,
                grid.code,
                rng.choice(["医疗", "法律、驾驶", "", "信息技术"]),
                rng.choice(["周六上午", "周日下午、工作日晚上", "周末"]),
                rng.choice(["便民服务", "平安守护、楼组建设"]),
                rng.choice([4, 8, 12]),
            ]
        )
    buffer = io.BytesIO()
    workbook.save(buffer)
    content = buffer.getvalue()

    started = time.perf_counter()
    book = load_workbook(io.BytesIO(content), read_only=True)
    cells = sum(1 for row in book.worksheets[0].iter_rows(values_only=True) for _ in row)
    book.close()
    baseline = time.perf_counter() - started

    started = time.perf_counter()
    job = import_upload(actor=None, org=street, filename="bench-members.xlsx", content=content)
    job = import_preview(actor=None, job=job)
    previewed = time.perf_counter() - started
    if job.errors:
        sys.exit(f"bench data has errors: {job.errors[:3]}")
    job = run_commit(job.pk)
    total = time.perf_counter() - started
    assert job.created_count == args.rows, job.message

    print(
        json.dumps(
            {
                "bench": "members_import",
                "database": connection.vendor,
                "rows": args.rows,
                "file_bytes": len(content),
                "cells": cells,
                "baseline_openpyxl_rows_per_s": round(args.rows / baseline),
                "preview_rows_per_s": round(args.rows / previewed),
                "import_rows_per_s": round(args.rows / total),
                "seconds": {
                    "openpyxl_read": round(baseline, 2),
                    "upload_and_preview": round(previewed, 2),
                    "preview_and_commit_total": round(total, 2),
                },
                "ratio_vs_openpyxl_read": round(baseline / total, 3),
            },
            ensure_ascii=False,
        )
    )


if __name__ == "__main__":
    main()
