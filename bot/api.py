"""Operator endpoints: ``POST /model/parse``, ``GET /healthz``, ``GET /metrics``."""

from __future__ import annotations

import asyncio

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST

from bot import metrics
from bot.handlers.rest import MAX_BODY_BYTES, MAX_TEXT_BYTES
from bot.httputil import BadRequest, read_json_object, text_field

NLU = web.AppKey("nlu", object)
STORE = web.AppKey("store", object)


async def parse(request: web.Request) -> web.Response:
    data = await read_json_object(request, max_bytes=MAX_BODY_BYTES)
    text = text_field(data, "text", max_bytes=MAX_TEXT_BYTES)
    lang = data.get("lang")
    if lang is not None and lang not in ("id", "en"):
        raise BadRequest(400, "invalid_lang", 'Field "lang" must be "id" or "en".')
    result = request.app[NLU].parse(text, lang)
    return web.json_response(result.as_dict())


async def healthz(request: web.Request) -> web.Response:
    try:
        ok = await asyncio.wait_for(request.app[STORE].ping(), timeout=5)
    except asyncio.TimeoutError:
        ok = False
    if ok:
        return web.json_response({"status": "ok"})
    return web.json_response({"status": "error", "database": "unreachable"}, status=503)


async def prometheus(request: web.Request) -> web.Response:
    return web.Response(body=metrics.render(), headers={"Content-Type": CONTENT_TYPE_LATEST})


def add_routes(app: web.Application) -> None:
    app.router.add_post("/model/parse", parse)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/metrics", prometheus)
