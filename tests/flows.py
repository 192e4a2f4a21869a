"""Answer scripts shared by the tests and the benchmark (console lines, Chinese as typed)."""

# /start → 主播报名 → privacy → 设区市 → 萍乡市 → 安源区 → 抖音 ...
STREAMER_HEAD = ["/start", "主播报名", "同意并继续", "1", "萍乡市", "安源区", "抖音"]


def streamer_lines(account: str, followers: str = "1.2万") -> list[str]:
    return [
        *STREAMER_HEAD,
        account,
        "跳过",  # no second platform
        "138 0013 8000",
        followers,
        "3.5万",  # likes received
        "0",  # 音浪
        "20",  # live days per month
        "45.5",  # live hours per month
        "10万",  # cumulative viewers
        "5000",  # peak concurrent
        "800",  # orders
        "12.5万",  # sales
        "跳过",  # average order value: computed
        "跳过",  # dou+
        "3.5%",  # conversion
        "1,3",  # categories
        "以上全部属实",
    ]


REPORT_LINES = ["/report", "今天 11-02", "5000元", "2小时30分", "1200", "3k", "45", "跳过"]


# /start → 企业报名 → privacy → 设区市 → 萍乡市 → 安源区 (the enterprise's 填报单位)
ENTERPRISE_HEAD = ["/start", "企业报名", "同意并继续", "1", "萍乡市", "安源区"]
AGREE = "同意"  # the donation rule, agreed at the end of the enterprise registration
# A shop link as people paste it: the whole Douyin share text around the URL.
DOUYIN_SHARE_TEXT = (
    "8.0 复制打开抖音，看看【绿源小店】的商品 https://v.douyin.com/JxAbC12/ 长按复制此条消息"
)


def enterprise_lines(name: str = "萍乡绿源农业有限公司", shop: bool = True) -> list[str]:
    """Up to the first product's name question."""
    return [
        *ENTERPRISE_HEAD,
        name,
        "农产品",  # industry
        "莲花血鸭、脐橙",  # main products
        "张三",  # contact
        "139 0000 1111",
        *(["是", "抖音小店", DOUYIN_SHARE_TEXT] if shop else ["否"]),
    ]


def product_lines(
    name: str,
    tag: str = "扶贫目录",
    orders: str = "1200",
    turnover: str = "3.5万",
    stock: str = "5000",
    attachment: str = "/photo p1",
) -> list[str]:
    return [name, tag, orders, turnover, stock, attachment]


PRODUCT_1 = product_lines("莲花血鸭")
PRODUCT_2 = product_lines("安源脐橙", "都不是", "800", "2万", "3000", "跳过")


def enterprise_two_products(name: str = "萍乡绿源农业有限公司", shop: bool = True) -> list[str]:
    """A whole enterprise registration with two products, the donation rule agreed, up to its
    summary."""
    return [*enterprise_lines(name, shop), *PRODUCT_1, "添加产品", *PRODUCT_2, "完成", AGREE]


def report_lines(
    day: str = "今天",
    gmv: str = "5000元",
    duration: str = "2小时30分",
    viewers: str = "1200",
    likes: str = "3k",
    orders: str = "45",
    evidence: str = "跳过",
) -> list[str]:
    """A daily report up to its summary (a single-account streamer: no account question)."""
    return ["/report", day, gmv, duration, viewers, likes, orders, evidence]
