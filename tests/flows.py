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
