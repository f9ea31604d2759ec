"""The root Typer app; user errors become one line on stderr and a non-zero exit."""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from functools import wraps
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from bot.core.errors import FactdeskError
from bot.core.settings import Settings, load_settings
from bot.core.text.sanitize import clean_inline, clean_untrusted

if TYPE_CHECKING:
    from bot.app import Factdesk

log = logging.getLogger(__name__)

app = typer.Typer(
    name="factdesk",
    help="News question answering with cited sources, daily digests and disputed-claim flags.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
    # Plain help: typer's rich panels label every flag "<bool>" as if it took a value.
    rich_markup_mode=None,
)

F = TypeVar("F", bound=Callable[..., Any])


class State:
    """Per-invocation context: settings and the application are built once, lazily, and closed at exit."""

    def __init__(self, env_file: Path | None, data_dir: Path | None, verbose: bool) -> None:
        self.env_file = env_file
        self.data_dir = data_dir
        self.verbose = verbose
        self._settings: Settings | None = None
        self._app: Factdesk | None = None
        self.console = Console()
        self.err = Console(stderr=True)

    @property
    def settings(self) -> Settings:
        if self._settings is None:
            overrides: dict[str, object] = {}
            if self.data_dir is not None:
                overrides["data_dir"] = self.data_dir
            self._settings = load_settings(self.env_file, **overrides)
        return self._settings

    @property
    def app(self) -> Factdesk:
        """The application every command uses (``Factdesk.from_settings``)."""
        if self._app is None:
            from bot.app import Factdesk

            self._app = Factdesk.from_settings(self.settings)
        return self._app

    def close(self) -> None:
        if self._app is not None:
            self._app.close()
            self._app = None


@app.callback()
def root(
    ctx: typer.Context,
    env_file: Path = typer.Option(Path(".env"), "--env-file", help="Read settings from this file if it exists."),
    data_dir: Path | None = typer.Option(None, "--data-dir", help="Override FACTDESK_DATA_DIR."),
    verbose: bool = typer.Option(False, "--verbose", "-v", help="Log progress details to stderr."),
) -> None:
    """factdesk: cited answers about the news you index."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    for noisy in ("bm25s", "chromadb", "httpx", "httpcore"):  # their DEBUG/INFO chatter is not ours
        logging.getLogger(noisy).setLevel(logging.WARNING)
    ctx.obj = State(env_file, data_dir, verbose)
    ctx.call_on_close(ctx.obj.close)


def state(ctx: typer.Context) -> State:
    obj = ctx.obj
    assert isinstance(obj, State)
    return obj


def plain(value: object) -> Text:
    """Untrusted text for a Rich table or line: cleaned for a terminal, never read as markup.

    Titles, claims and error messages can hold ``[/]`` (a MarkupError) or ``[link=…]`` (a live
    hyperlink); as a :class:`rich.text.Text` they print literally.
    """
    return Text(clean_untrusted(str(value)))


def error_line(exc: BaseException) -> Text:
    """``error: <message>`` on one line, the message printed literally."""
    return Text.assemble(("error:", "bold red"), " ", clean_inline(str(exc)))


def user_errors(func: F) -> F:
    """Convert core errors to one line on stderr and exit code 1 (the CLI's one error boundary)."""

    @wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except FactdeskError as exc:
            Console(stderr=True).print(error_line(exc), highlight=False, soft_wrap=True)
            raise typer.Exit(1) from None
        except KeyboardInterrupt:
            Console(stderr=True).print("interrupted; rerun the same command to finish the job")
            raise typer.Exit(130) from None

    return wrapper  # type: ignore[return-value]


def _register() -> None:
    from bot.cli import ask, claims, digest, doctor, evaluate, ingest, serve  # noqa: F401  (modules register on import)


def main() -> None:
    """Console-script entry point."""
    _register()
    try:
        app()
    except BrokenPipeError:  # `factdesk ... | head`
        sys.exit(0)
