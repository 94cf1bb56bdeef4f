"""The web application: the page, its static files, and three JSON endpoints.

GET / is the worksheet (with an exam folder, first the form for the variant); POST /api/grade
grades the entries typed; POST /api/answers gives them as an answers file; POST /api/upload reads
one back. Every response carries a Content-Security-Policy that forbids inline script and any
address but this server's.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from handcalc.errors import HandcalcError
from handcalc.serve import answers_file, grading
from handcalc.serve import requests as req
from handcalc.serve.page import variant_form
from handcalc.serve.sheet import Sheets

CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cache-control", b"no-store"),
]
STATIC = {"page.js": "text/javascript", "page.css": "text/css"}


class Secured:
    """Every response, error pages included, with the security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_secured(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *HEADERS]
            await send(message)

        await self.app(scope, receive, send_secured)


def create(sheets: Sheets, reveal: grading.Reveal) -> ASGIApp:
    """The application serving these sheets, revealing the key as `reveal` says."""
    files = {
        name: (resources.files("handcalc.serve").joinpath("static", name).read_bytes(), kind)
        for name, kind in STATIC.items()
    }
    h = _Handlers(sheets=sheets, reveal=reveal, files=files)
    app = Starlette(
        routes=[
            Route("/", h.index),
            Route("/static/{name}", h.static),
            Route("/favicon.ico", h.no_icon),
            Route("/api/grade", h.grade, methods=["POST"]),
            Route("/api/answers", h.download, methods=["POST"]),
            Route("/api/upload", h.upload, methods=["POST"]),
        ],
        exception_handlers={
            req.Refused: _refused,
            HTTPException: _http_error,
            Exception: _internal,
        },
    )
    return Secured(app)


@dataclass(frozen=True, slots=True)
class _Handlers:
    sheets: Sheets
    reveal: grading.Reveal
    files: dict[str, tuple[bytes, str]]

    async def index(self, request: Request) -> Response:
        """The worksheet; for an exam, the variant form until a variant is named."""
        sheets = self.sheets
        if sheets.single is not None:
            return HTMLResponse(sheets.single.html)
        variant = request.query_params.get("variant")
        if variant is None:
            return HTMLResponse(variant_form(sheets.title))
        sheet = sheets.get(variant[: req.MAX_VARIANT])
        if sheet is None:
            message = "There is no such variant: type the number printed on your paper."
            return HTMLResponse(variant_form(sheets.title, message), status_code=404)
        return HTMLResponse(sheet.html)

    async def static(self, request: Request) -> Response:
        found = self.files.get(request.path_params["name"])
        if found is None:
            raise HTTPException(404)
        return Response(found[0], media_type=found[1])

    async def no_icon(self, request: Request) -> Response:
        return Response(status_code=204)

    async def grade(self, request: Request) -> Response:
        asked = await _request(request, self.sheets)
        return JSONResponse(grading.respond(asked.sheet, asked.typed, self.reveal))

    async def download(self, request: Request) -> Response:
        asked = await _request(request, self.sheets)
        return Response(answers_file.write(asked.sheet, asked.typed), media_type="text/yaml")

    async def upload(self, request: Request) -> Response:
        asked = await _request(request, self.sheets)
        try:
            typed, problems = answers_file.read(asked.sheet, asked.text or "")
        except HandcalcError as e:
            raise req.Refused(422, str(e)) from None
        return JSONResponse({"answers": typed, "problems": problems})


async def _request(request: Request, sheets: Sheets) -> req.Request:
    data = await req.body(request.headers.get("content-length"), request.stream())
    return req.parse(data, sheets)


def _error(status: int, reason: str) -> JSONResponse:
    return JSONResponse({"error": reason}, status_code=status)


async def _refused(request: Request, exc: Any) -> Response:
    return _error(exc.status, exc.reason)


async def _http_error(request: Request, exc: Any) -> Response:
    return _error(exc.status_code, str(exc.detail).lower())


async def _internal(request: Request, exc: Any) -> Response:
    return _error(500, "the server could not answer this request")
