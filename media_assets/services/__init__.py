"""Writes of the media library: ``limits`` (checked before any upload), ``materials`` (permanent), ``pull``
(the library from WeChat), ``temporary`` (3-day media, re-uploaded on use) and ``received`` (followers' files); and of articles:
``drafts`` (draft box, article images), ``publish`` (freepublish, published articles) and ``comments`` (留言)."""
