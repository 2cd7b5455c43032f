"""Template messages (模板消息): templates, single sends, group pushes and their job-finish results."""
