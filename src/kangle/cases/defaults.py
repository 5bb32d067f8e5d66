"""The categories and SLA policies a new installation starts with (editable in the admin afterwards).

白蚁 follows the article: contact and on-site check within 24 hours, the whole job done within 48 hours.
"""

from __future__ import annotations

TERMITE_PRECAUTIONS = (
    "请勿自行喷洒杀虫剂或破坏蚁路，以免白蚁转移、影响定位蚁巢；保留发现白蚁的部位和飞蚁尸体，方便专业人员勘查；"
    "关闭门窗、熄灭不必要的灯光（分飞白蚁趋光）；上门当天请家中留人，并清理受害部位周边的杂物。"
)
TERMITE_PREVENTION = (
    "保持室内通风干燥，及时修复漏水；木质家具、门框避免长期受潮，不在室内堆放木材、纸箱；"
    "梅雨季傍晚少开灯或拉上窗帘；发现蛀空、泥线或成群飞蚁，及时通过民情快办反映。"
)

ESCALATION = [{"role": "area_admin", "after_hours": 0}, {"role": "street_admin", "after_hours": 24}]

POLICIES = [
    {
        "code": "termite",
        "name": "白蚁防治 24/48 小时",
        "clock_type": "natural",
        "warn_ratio": "0.75",
        "escalation_chain": ESCALATION,
        "milestones": [
            ("on_site", "24小时内沟通情况、实地查看", 24, "on_site", 1),
            ("completed", "48小时内处理完成", 48, "work_done", 2),
            ("rework", "返工24小时内处理完成", 24, "work_done", 3, True),
        ],
    },
    {
        "code": "urgent",
        "name": "紧急报修 24/48 小时",
        "clock_type": "natural",
        "warn_ratio": "0.75",
        "escalation_chain": ESCALATION,
        "milestones": [
            ("on_site", "24小时内联系并上门查看", 24, "on_site", 1),
            ("completed", "48小时内处理完成", 48, "work_done", 2),
            ("rework", "返工24小时内处理完成", 24, "work_done", 3, True),
        ],
    },
    {
        "code": "standard",
        "name": "一般事项（工作时间）",
        "clock_type": "working",
        "warn_ratio": "0.75",
        "escalation_chain": ESCALATION,
        "milestones": [
            ("on_site", "2个工作日内联系并上门查看", 16, "on_site", 1),
            ("completed", "5个工作日内处理完成", 40, "work_done", 2),
            ("rework", "返工3个工作日内处理完成", 24, "work_done", 3, True),
        ],
    },
]

# code, name, parent code, policy code, precautions, prevention tips, order
CATEGORIES = [
    ("pests", "病媒生物", None, "termite", "", "", 10),
    ("termite", "白蚁", "pests", "termite", TERMITE_PRECAUTIONS, TERMITE_PREVENTION, 11),
    ("water_leak", "漏水", None, "urgent", "请先关闭总阀、切断受影响区域的电源，移开贵重物品。", "", 20),
    ("drain_blocked", "下水道堵塞", None, "urgent", "暂停使用相关的水池和马桶，勿倒入油污和杂物。", "", 30),
    ("noise", "噪音", None, "standard", "请记录噪音出现的时间和来源。", "", 40),
    ("greenery", "绿化", None, "standard", "", "", 50),
    ("other", "其他", None, "standard", "", "", 90),
]


def seed(SlaPolicy, Milestone, CaseCategory) -> None:  # noqa: N803 (historical model classes)
    policies = {}
    knows_rework = any(field.name == "on_rework" for field in Milestone._meta.get_fields())
    for spec in POLICIES:
        policy, _ = SlaPolicy.objects.get_or_create(
            code=spec["code"],
            defaults={
                "name": spec["name"],
                "clock_type": spec["clock_type"],
                "warn_ratio": spec["warn_ratio"],
                "escalation_chain": spec["escalation_chain"],
            },
        )
        for code, name, hours, met_on, order, *rework in spec["milestones"]:
            if rework and not knows_rework:
                continue  # an early migration's model; the rework migration seeds these
            Milestone.objects.get_or_create(
                policy=policy,
                code=code,
                defaults={"name": name, "hours": hours, "met_on": met_on, "order": order}
                | ({"on_rework": bool(rework and rework[0])} if knows_rework else {}),
            )
        policies[spec["code"]] = policy
    made = {}
    for code, name, parent, policy, precautions, tips, order in CATEGORIES:
        category, _ = CaseCategory.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "parent": made.get(parent),
                "policy": policies[policy],
                "precautions": precautions,
                "prevention_tips": tips,
                "sort_order": order,
            },
        )
        made[code] = category
