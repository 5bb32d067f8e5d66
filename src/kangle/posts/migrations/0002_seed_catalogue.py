"""Seed the catalogue: 3 categories × 9 aspects (DOMAIN.md, Part A item 3). Aspect codes are the codes of
kangle.members.constants.Aspect, which members' willingness uses. The street admin edits names, order and
whether an entry is active afterwards; codes never change."""

from django.db import migrations

CATALOGUE = [
    ("volunteer", "参与志愿服务", [
        ("convenience", "便民服务", "理发、维修、义诊等便民项目"),
        ("civic", "文明实践", "文明宣传、垃圾分类、环境整治"),
        ("culture", "文体教育", "文体活动、课业辅导、科普讲座"),
    ]),
    ("governance", "融入基层治理", [
        ("safety", "平安守护", "平安巡逻、消防检查、防汛防台"),
        ("building_group", "楼组建设", "楼组自治、邻里议事、楼道美化"),
        ("deliberation", "议事协商", "议事协商、矛盾调解"),
    ]),
    ("helping", "帮扶困难群众", [
        ("elderly", "助老帮困", "为老服务、困难帮扶、夏送凉冬送暖"),
        ("professional", "专业帮扶", "法律、医疗、心理等专业服务"),
        ("care", "结对关爱", "一对一结对关爱"),
    ]),
]


def seed(apps, schema_editor):
    Category = apps.get_model("posts", "ServiceCategory")
    Aspect = apps.get_model("posts", "ServiceAspect")
    for c_order, (code, name, aspects) in enumerate(CATALOGUE, start=1):
        category, _ = Category.objects.get_or_create(code=code, defaults={"name": name, "sort_order": c_order})
        for a_order, (a_code, a_name, description) in enumerate(aspects, start=1):
            Aspect.objects.get_or_create(code=a_code, defaults={
                "category": category, "name": a_name, "description": description, "sort_order": a_order})


def unseed(apps, schema_editor):
    apps.get_model("posts", "ServiceAspect").objects.all().delete()
    apps.get_model("posts", "ServiceCategory").objects.all().delete()


class Migration(migrations.Migration):
    dependencies = [("posts", "0001_initial")]
    operations = [migrations.RunPython(seed, unseed)]
