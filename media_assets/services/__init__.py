"""Services of media_assets: writes and WeChat calls, one module per area."""
