"""Seed the editable skill taxonomy (专业特长); street admins change it in the Django admin."""

from django.db import migrations

SKILLS = [
    ("medical", "医疗"), ("legal", "法律"), ("haircut", "理发"), ("repair", "水电维修"), ("counselling", "心理咨询"),
    ("tutoring", "教育辅导"), ("it", "信息技术"), ("arts", "文艺"), ("driving", "驾驶"), ("language", "外语"),
    ("finance", "财会金融"), ("cooking", "烹饪"), ("nursing", "护理照护"), ("photography", "摄影摄像"),
]


def seed(apps, schema_editor):
    Skill = apps.get_model("members", "Skill")
    for order, (code, name) in enumerate(SKILLS, start=1):
        Skill.objects.get_or_create(code=code, defaults={"name": name, "sort_order": order})


def unseed(apps, schema_editor):
    apps.get_model("members", "Skill").objects.filter(code__in=[code for code, _ in SKILLS], members__isnull=True).delete()


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
