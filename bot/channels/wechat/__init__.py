"""The WeChat channel: Official Account conversations (wechatpy) and WeCom group broadcasts."""
