"""Enterprise registration (附件1) with its products, as console transcripts."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.channels.console import render
from bot.core.dispatcher import Core
from bot.core.messages import Incoming
from models import AuditEntry, Enterprise, Product, Unit
from tests.catalog import label, line, said
from tests.chat import Chat
from tests.flows import (
    DOUYIN_SHARE_TEXT,
    ENTERPRISE_HEAD,
    PRODUCT_1,
    PRODUCT_2,
    enterprise_lines,
    enterprise_two_products,
)

HEADER = """\
【企业报名信息确认】

推荐单位类型: 设区市 / 县（市、区）团委
设区市: 萍乡市
推荐单位: 萍乡市 安源区
企业名称: 萍乡绿源农业有限公司
行业(类目): 农产品
主营产品: 莲花血鸭、脐橙
联系人: 张三
手机: 13900001111
"""
SHOP = """\
是否有店铺: 是
店铺类型: 抖音小店
店铺链接: https://v.douyin.com/JxAbC12/
"""
LOTUS_DUCK = """\
  · 产品名称: 莲花血鸭
  · 优先类别: 扶贫目录
  · 月均有效订单量: 1,200
  · 月均有效成交额: 35,000 元
  · 可供应库存量: 5,000
  · 产品附件: 已上传图片
"""
ORANGES = """\
  · 产品名称: 安源脐橙
  · 优先类别: 都不是
  · 月均有效订单量: 800
  · 月均有效成交额: 20,000 元
  · 可供应库存量: 3,000
  · 产品附件: （未填）
"""
PENDING = "pending_review"
# the donation rule agreed (the form's last question), then the summary's hint
HINT = "捐赠规则: 同意\n\n请核对以上信息：点「确认提交」提交，或点对应按钮修改。\n"
SHOP_BUTTONS = "[12] 改店铺类型  [13] 改店铺链接  "


def press_data(core: Core, user: str, data: str) -> str:
    """Sends a button's callback data as the channel would, whenever it is pressed."""
    inc = Incoming(channel="console", user_id=user, chat_id=user, button=data)
    return render(core.process_sync(inc))


def button_data(chat: Chat, label: str) -> str:
    return next(b.data for r in chat.last for b in r.flat_buttons() if b.label == label)


def count(core: Core, model: type) -> int:
    with core.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(model)) or 0)


def test_unit_picking_and_shop_link_from_share_text(chat: Chat) -> None:
    out = chat.run("ent", ENTERPRISE_HEAD[:3])
    assert out.endswith(
        "请选择你的推荐单位（填报单位）类型：\n"
        "  [1] 设区市 / 县（市、区）团委  [2] 高校团委  [3] 省直属单位团委  [4] 取消\n"
    )
    out = chat.say("ent", "1")
    assert out.startswith("请选择设区市：\n  [1] 南昌市  [2] 景德镇市  [3] 萍乡市")
    out = chat.say("ent", "萍乡市")
    assert out == (
        "请选择县（市、区），市团委直接推荐请选「市本级」：\n"
        "  [1] 市本级  [2] 安源区  [3] 湘东区  [4] 莲花县  [5] 上栗县  [6] 芦溪县"
        "  [7] 返回  [8] 取消\n"
    )
    assert chat.say("ent", "安源区") == "请输入企业名称：\n  [返回]  [取消]\n"
    lines = enterprise_lines()
    chat.run("ent", lines[len(ENTERPRISE_HEAD) : -3])
    assert chat.say("ent", "是") == (
        "店铺类型及所在平台（如：抖音小店、京东旗舰店）：\n  [返回]  [取消]\n"
    )
    chat.say("ent", "抖音小店")
    assert chat.say("ent", "看看我的小店") == (
        "没有找到有效的链接，请粘贴以 http 开头的店铺链接。\n"
        "店铺链接（可直接粘贴分享文字）：\n  [返回]  [取消]\n"
    )
    assert chat.say("ent", DOUYIN_SHARE_TEXT) == "[产品 1] 产品名称：\n  [返回]  [取消]\n"


def test_two_products_end_to_end(chat: Chat, core: Core) -> None:
    out = chat.run("ent", enterprise_lines())
    assert out.endswith("[产品 1] 产品名称：\n  [返回]  [取消]\n")
    out = chat.run("ent", PRODUCT_1[:-1])
    assert out.endswith(
        "[产品 1] 请发送产品图片或资料（可点「跳过」）。\n  [返回]  [跳过]  [取消]\n"
    )
    assert chat.say("ent", PRODUCT_1[-1]) == (
        "已添加第 1 个产品。还要继续添加吗？\n  [1] 添加产品  [2] 完成  [3] 返回  [4] 取消\n"
    )
    assert chat.say("ent", "添加产品") == "[产品 2] 产品名称：\n  [返回]  [取消]\n"
    out = chat.run("ent", PRODUCT_2)
    assert out.endswith(
        "已添加第 2 个产品。还要继续添加吗？\n  [1] 添加产品  [2] 完成  [3] 返回  [4] 取消\n"
    )
    assert said(chat.say("ent", "完成"), "money.rule_donation")
    out = chat.say("ent", "同意")
    assert out.startswith(HEADER + SHOP + "产品 1:\n" + LOTUS_DUCK + "产品 2:\n" + ORANGES + HINT)
    assert "[14] 改产品1  [15] 删除产品1  [16] 改产品2  [17] 删除产品2  [18] 添加产品" in out

    out = chat.say("ent", "确认提交")
    assert out == (
        "企业报名已提交！萍乡绿源农业有限公司，共 2 个产品，填报单位：萍乡市 安源区，"
        "状态：待审核。\n"
    )
    with core.sessions() as s:
        ent = s.scalars(select(Enterprise)).one()
        assert ent.status == "pending_review"
        assert s.get(Unit, ent.unit_id).code == "360302"  # type: ignore[union-attr]
        assert (ent.name, ent.industry, ent.main_products, ent.contact_name, ent.phone) == (
            "萍乡绿源农业有限公司",
            "农产品",
            "莲花血鸭、脐橙",
            "张三",
            "13900001111",
        )
        assert (ent.has_shop, ent.shop_type, ent.shop_link) == (
            True,
            "抖音小店",
            "https://v.douyin.com/JxAbC12/",
        )
        products = s.scalars(select(Product).order_by(Product.id)).all()
        assert [
            (
                p.name,
                p.priority_tag,
                p.monthly_orders,
                p.monthly_turnover_fen,
                p.stock,
                p.attachment_file_id,
                p.status,
                p.enterprise_id,
            )
            for p in products
        ] == [
            ("莲花血鸭", "poverty_catalog", 1200, 3_500_000, 5000, "console:p1", PENDING, ent.id),
            ("安源脐橙", None, 800, 2_000_000, 3000, None, PENDING, ent.id),
        ]
        audit = s.scalars(select(AuditEntry)).one()
        assert (audit.action, audit.entity, audit.entity_id) == ("register", "enterprise", ent.id)
        assert [p["name"] for p in audit.after["products"]] == ["莲花血鸭", "安源脐橙"]
    assert chat.say("ent", "/enterprise") == (
        "你已经登记过企业「萍乡绿源农业有限公司」，可在「我的登记」中查看或修改。\n"
        "在「我的登记」中可以查看、修改或撤回。\n  [1] 我的登记\n"
    )


def test_no_shop_skips_the_shop_fields(chat: Chat, core: Core) -> None:
    lines = enterprise_lines(shop=False)
    out = chat.run("ent", lines[:-1])
    assert out.endswith("企业是否有网店？\n  [1] 是  [2] 否  [3] 返回  [4] 取消\n")
    assert chat.say("ent", "否") == "[产品 1] 产品名称：\n  [返回]  [取消]\n"
    out = chat.run("ent", [*PRODUCT_1, "完成", "同意"])
    assert out.endswith(
        HEADER
        + "是否有店铺: 否\n产品 1:\n"
        + LOTUS_DUCK
        + HINT
        + "  [1] 确认提交  [2] 取消  [3] 改推荐单位类型  [4] 改设区市  [5] 改推荐单位"
        "  [6] 改企业名称  [7] 改行业(类目)  [8] 改主营产品  [9] 改联系人  [10] 改手机"
        "  [11] 改是否有店铺  [12] 改产品1  [13] 添加产品  [14] 改捐赠规则\n"
    )
    assert "店铺" not in out.split("是否有店铺")[1]
    out = chat.say("ent", "确认提交")
    assert "共 1 个产品" in out
    with core.sessions() as s:
        ent = s.scalars(select(Enterprise)).one()
        assert (ent.has_shop, ent.shop_type, ent.shop_link) == (False, None, None)
        assert s.scalar(select(func.count()).select_from(Product)) == 1


def test_bad_product_answers_are_asked_again(chat: Chat, core: Core) -> None:
    chat.run("ent", [*enterprise_lines(), "莲花血鸭", "扶贫目录"])
    assert chat.say("ent", "很多") == (
        "请输入一个数字，例如 12000、1.2万 或 5k。\n"
        "[产品 1] 产品月均有效订单量（单）：\n  [返回]  [取消]\n"
    )
    assert chat.say("ent", "12.5") == (
        "这里需要一个整数，请重新输入。\n[产品 1] 产品月均有效订单量（单）：\n  [返回]  [取消]\n"
    )
    chat.run("ent", ["1200", "3.5万", "5000"])
    assert chat.say("ent", "图片稍后发") == (
        "请发送一张图片。\n"
        "[产品 1] 请发送产品图片或资料（可点「跳过」）。\n  [返回]  [跳过]  [取消]\n"
    )
    assert chat.say("ent", "跳过").startswith("已添加第 1 个产品。")
    assert count(core, Product) == 0


def test_delete_a_product_in_the_summary(chat: Chat, core: Core) -> None:
    chat.run("ent", enterprise_two_products())
    out = chat.press("ent", "删除产品1")
    assert out.startswith(HEADER + SHOP + "产品 1:\n" + ORANGES + HINT)
    assert "产品 2" not in out
    # the last product cannot be deleted
    assert out.endswith("[14] 改产品1  [15] 添加产品  [16] 改捐赠规则\n")
    out = chat.say("ent", "确认提交")
    assert "共 1 个产品" in out
    with core.sessions() as s:
        assert s.scalars(select(Product.name)).all() == ["安源脐橙"]


def test_edit_a_product_from_the_summary(chat: Chat, core: Core) -> None:
    chat.run("ent", enterprise_two_products())
    assert chat.press("ent", "改产品2") == (
        "[产品 2] 产品名称：\n（当前：安源脐橙）\n  [返回]  [保持不变]  [取消]\n"
    )
    out = chat.say("ent", "保持不变")
    assert out == (
        "[产品 2] 产品属于以下哪类？（优先选择）\n（当前：都不是）\n"
        "  [1] 扶贫目录  [2] 农副产品  [3] 滞销  [4] 都不是  [5] 返回  [6] 保持不变  [7] 取消\n"
    )
    chat.run("ent", ["滞销", "保持不变"])
    assert chat.say("ent", "4万") == (
        "[产品 2] 预计直播可供应库存量（件）：\n（当前：3,000）\n  [返回]  [保持不变]  [取消]\n"
    )
    chat.say("ent", "保持不变")
    out = chat.say("ent", "/photo p2")  # back to the summary, not "add another?"
    assert out.startswith(
        HEADER
        + SHOP
        + "产品 1:\n"
        + LOTUS_DUCK
        + "产品 2:\n"
        + ORANGES.replace("都不是", "滞销")
        .replace("20,000", "40,000")
        .replace("（未填）", "已上传图片")
        + HINT
    )
    chat.say("ent", "确认提交")
    with core.sessions() as s:
        edited = s.scalars(select(Product).where(Product.name == "安源脐橙")).one()
        assert (edited.priority_tag, edited.monthly_turnover_fen, edited.stock) == (
            "unsold",
            4_000_000,
            3000,
        )
        assert edited.attachment_file_id == "console:p2"
        assert s.scalar(select(func.count()).select_from(Product)) == 2


def test_edit_the_shop_answer_from_the_summary(chat: Chat, core: Core) -> None:
    chat.run("ent", [*enterprise_lines(shop=False), *PRODUCT_1, "完成", "同意"])
    out = chat.press("ent", "改是否有店铺")
    assert out.startswith("企业是否有网店？\n（当前：否）\n")
    chat.run("ent", ["是", "京东旗舰店"])
    out = chat.say("ent", "jd.com/shop/123")
    assert "店铺类型: 京东旗舰店\n店铺链接: https://jd.com/shop/123\n" in out
    chat.say("ent", "确认提交")
    with core.sessions() as s:
        ent = s.scalars(select(Enterprise)).one()
        assert (ent.has_shop, ent.shop_link) == (True, "https://jd.com/shop/123")


def test_committee_is_told_about_a_new_enterprise(chat: Chat, core: Core) -> None:
    chat.say("admin", "/start")
    chat.run("ent", [*enterprise_two_products(), "确认提交"])
    with core.sessions() as s:
        ent_id = s.scalar(select(Enterprise.id))
    assert chat.deliver() == (
        "📨 → 组委会管理员 [admin]:\n"
        "   新的企业报名：萍乡绿源农业有限公司（萍乡市 安源区），"
        f"产品状态：待审核。编号 {ent_id}。\n"
        "     [查看待审核]\n"
    )


def test_edit_from_me_keeps_product_rows_and_withdraws_a_deleted_one(
    chat: Chat, core: Core
) -> None:
    chat.run("ent", [*enterprise_two_products(), "确认提交"])
    with core.sessions() as s:
        before = dict(s.execute(select(Product.name, Product.id)).tuples().all())
    chat.say("ent", "/me")
    out = chat.press("ent", label("btn.edit_enterprise"))
    assert out.startswith(HEADER + SHOP + "产品 1:\n" + LOTUS_DUCK + "产品 2:\n" + ORANGES)
    chat.press("ent", "删除产品1")
    assert chat.press("ent", "确认提交") == (
        "企业报名已提交！萍乡绿源农业有限公司，共 1 个产品，填报单位：萍乡市 安源区，"
        "状态：待审核。\n"
    )
    with core.sessions() as s:
        rows = s.execute(select(Product.name, Product.id, Product.status)).tuples().all()
        assert sorted(rows) == [
            ("安源脐橙", before["安源脐橙"], PENDING),
            ("莲花血鸭", before["莲花血鸭"], "withdrawn"),
        ]
        assert s.scalar(select(func.count()).select_from(Enterprise)) == 1
        edit = s.scalars(select(AuditEntry).where(AuditEntry.action == "edit")).one()
        assert len(edit.before["products"]) == 2 and len(edit.after["products"]) == 1
    assert chat.say("ent", "/me") == (
        "【企业报名】萍乡绿源农业有限公司，状态：待审核\n"
        "  产品：已通过 0 个，待审核 1 个，未通过 0 个\n"
        "  · 产品「莲花血鸭」：已撤回\n"
        "  · 产品「安源脐橙」：待审核\n"
        + line("money.rule_donation", rate="5", threshold="100,000", share="50")
        + "  [1] 修改企业登记  [2] 撤回企业报名\n"
    )


def test_an_old_add_product_button_is_stale(chat: Chat, core: Core) -> None:
    chat.run("ent", [*enterprise_lines(), *PRODUCT_1, "添加产品", *PRODUCT_2])
    add = button_data(chat, "添加产品")
    chat.say("ent", "完成")
    summary = chat.say("ent", "同意")
    out = press_data(core, "ent", add)
    assert out.startswith("这个按钮已过期，请按最新的提示操作。\n" + HEADER)
    assert out.split("\n", 1)[1] == summary  # the summary again, unchanged
    assert "产品 3" not in out
    chat.say("ent", "确认提交")
    assert count(core, Product) == 2


def test_confirm_pressed_twice_stores_once(chat: Chat, core: Core) -> None:
    chat.run("ent", enterprise_two_products())
    confirm = button_data(chat, "确认提交")
    assert press_data(core, "ent", confirm).startswith("企业报名已提交！")
    assert press_data(core, "ent", confirm) == "这个按钮已过期，请按最新的提示操作。\n"
    assert (count(core, Enterprise), count(core, Product), count(core, AuditEntry)) == (1, 2, 1)
