"""The ``searchapp`` command: reindex, search, topics, serve."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from . import export
from .config import Settings, load_settings, option_help
from .errors import IndexLockedError, ListenError, SchemaVersionError, SearchAppError
from .indexer import ReindexProgress, ReindexSummary, reindex as run_reindex
from .results import SearchResults
from .schema import FACET_FIELDS
from .search import SORTS, SearchIndex


# The library's messages say what is wrong; the command line adds which flag helps.
_HINTS = {
    SchemaVersionError: "run `searchapp reindex --full`",
    IndexLockedError: "or run `searchapp reindex --wait` to wait for it",
    ListenError: "the --port and --host options",
}


def _with_hint(error: SearchAppError) -> str:
    hint = next((h for cls, h in _HINTS.items() if isinstance(error, cls)), None)
    return f"{error} ({hint})" if hint else str(error)


class _Group(click.Group):
    """Turns every SearchAppError into a one-line error and exit code 1, in one place."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except SearchAppError as e:
            raise click.ClickException(_with_hint(e)) from e


def _settings(**options) -> Settings:
    return load_settings(**options)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="searchapp")
def main() -> None:
    """Full-text search for collections of reports.

    Settings come from defaults, then ./searchapp.toml, then SEARCHAPP_*
    environment variables (SEARCHAPP_CORPUS, SEARCHAPP_INDEX, ...), then options.
    """


@main.command()
@click.option("--corpus", type=click.Path(path_type=Path), help=option_help("corpus"))
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help=option_help("index"))
@click.option("--full", is_flag=True, help="rebuild from scratch instead of updating what changed")
@click.option("--procs", type=int, help=option_help("procs"))
@click.option("--wait", is_flag=True, help="wait for another running reindex instead of stopping")
@click.option("--topics", "topics_file", type=click.Path(path_type=Path, dir_okay=False), help=option_help("topics"))
@click.option("--entities/--no-entities", default=None, help=option_help("entities"))
@click.option("--places/--no-places", default=None, help=option_help("places"))
@click.option("--json", "as_json", is_flag=True, help="print the summary as JSON")
def reindex(corpus, index_dir, full, procs, wait, topics_file, entities, places, as_json) -> None:
    """Index the report files of the corpus folder (incremental by default).

    Reports without topics of their own get automatic ones, from the topic
    taxonomy and from a model learned on the reports that have topics.
    """
    settings = _settings(corpus=corpus, index=index_dir, procs=procs, topics=topics_file, entities=entities,
                         places=places)
    progress = None if as_json else _progress_printer()
    try:
        summary = run_reindex(settings.corpus, settings.index, full=full, procs=settings.procs,
                              wait=wait, progress=progress, topics_file=settings.topics,
                              parse_timeout_s=settings.parse_timeout_s, parse_memory_mb=settings.parse_memory_mb,
                              entities=settings.entities, places=settings.places)
    finally:
        if progress is not None:
            progress.close()
    if as_json:
        click.echo(json.dumps(summary.to_dict(), indent=2))
    else:
        _print_summary(summary, settings)


class _progress_printer:
    """A progress bar on a terminal, a plain line every few seconds elsewhere."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.bar = None
        self.phase = ""
        self.last = 0.0

    def __call__(self, p: ReindexProgress) -> None:
        """Follows the bytes of the files (a large file moves the bar as its reports are read)."""
        counts = f"{p.files_done:,}/{p.files:,} files, {p.reports:,} reports"
        if self.tty:
            if self.bar is None or self.phase != p.phase:
                self.close()
                self.bar = click.progressbar(length=max(p.bytes_total, 1), label=p.phase.capitalize(),
                                             file=sys.stderr, item_show_func=lambda text: text)
                self.bar.__enter__()
                self.phase = p.phase
            self.bar.update(p.bytes_done - self.bar.pos, counts)
        elif time.monotonic() - self.last >= 2 or p.bytes_done >= p.bytes_total or p.phase != self.phase:
            self.last, self.phase = time.monotonic(), p.phase
            click.echo(f"{'read' if p.phase == 'reading' else 'indexed'} {counts}, {p.fraction:.0%} ({p.relpath})",
                       err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def _print_summary(s: ReindexSummary, settings: Settings) -> None:
    kind = "full rebuild" if s.full else "incremental update"
    if s.reason:
        kind += f" ({s.reason})"
    click.echo(f"Indexed {settings.corpus} into {settings.index}: {kind} in {s.elapsed_s:.2f} s")
    click.echo(f"  reports: {s.added} added, {s.updated} updated, {s.removed} removed, "
               f"{s.unchanged} unchanged; {s.total} in the index; {s.files} files")
    click.echo(f"  automatic topics: {s.auto_tagged} report{'s' if s.auto_tagged != 1 else ''} tagged")
    for count, examples, what in ((s.undated, s.undated_examples, "without a date"),
                                  (s.no_source, s.no_source_examples, "without a source"),
                                  (s.unread_dates, s.unread_date_examples, "date values that could not be read")):
        if count:
            noun = "" if what.startswith("date values") else " reports"
            click.echo(f"  warning: {count}{noun} {what}" + (":" if examples else ""))
            for example in examples:
                click.echo(f"    {example}")
            if count > len(examples):
                click.echo(f"    ... and {count - len(examples)} more")
    if s.rejected:
        click.echo(f"  rejected ({len(s.rejected)}):")
        for e in s.rejected:
            click.echo(f"    {e}")


def _facet_options(command):
    """A repeatable option per facet beyond source and topic (schema.FACET_FIELDS)."""
    for facet in reversed(FACET_FIELDS):
        if facet.name not in ("source", "topic"):
            command = click.option(f"--{facet.name}", multiple=True,
                                   help=f"keep reports with this {facet.name} (repeat for several)")(command)
    return command


@main.command()
@click.argument("query", default="")
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help=option_help("index"))
@click.option("--source", multiple=True, help="keep reports of this source (repeat for several)")
@click.option("--topic", multiple=True, help="keep reports with this topic (repeat for several)")
@click.option("--from", "date_from", help="first date, inclusive: YYYY, YYYY-MM or YYYY-MM-DD")
@click.option("--to", "date_to", help="last date, inclusive: YYYY, YYYY-MM or YYYY-MM-DD")
@click.option("--sort", default="relevance", show_default=True, metavar="|".join(SORTS),
              help="order of the results")
@click.option("--page", type=int, default=1, show_default=True)
@click.option("--per-page", type=int, help=option_help("per_page"))
@click.option("--any", "any_word", is_flag=True, help="match any word (a bag of words, no query syntax)")
@_facet_options
@click.option("--curated-only", is_flag=True, help="topics and entities: the reports' own ones only")
@click.option("--undated", is_flag=True, help="keep only reports without a date")
@click.option("--all-copies", is_flag=True, help="list every near-duplicate instead of the best of each group")
@click.option("--group", help="list the reports of this near-duplicate group (a hit's group)")
@click.option("--json", "as_json", is_flag=True, help="print the result's to_dict() as JSON")
@click.option("--format", "fmt", type=click.Choice(["text", "csv", "jsonl"]), default="text", show_default=True,
              help="csv or jsonl: the hits as rows (with --all: every hit, streamed)")
@click.option("--all", "every", is_flag=True, help="every hit, not one page (with --format csv|jsonl)")
def search(query, index_dir, date_from, date_to, sort, page, per_page, any_word, curated_only, undated,
           all_copies, group, as_json, fmt, every, **facets) -> None:
    """Search the index. An empty QUERY lists every report (filter with the options).

    Query syntax: all words are required; "exact phrase"; a OR b; NOT word or
    -word; title:, body:, author:, source:, topic:, language:, person:, org:,
    place: and date: fields (date:2024-07, date:[2024-01 TO 2024-06]); prefix*.
    """
    settings = _settings(index=index_dir)
    if every and fmt == "text":
        raise click.UsageError("--all needs --format csv or --format jsonl")
    # --per-page is a parameter of this search (checked by the core), not a setting.
    per_page = settings.per_page if per_page is None else per_page
    with SearchIndex.open(settings.index) as index:
        filters = dict(date_from=date_from, date_to=date_to, sort=sort, mode="any" if any_word else "all",
                       curated_only=curated_only, undated=undated, group=group, **facets)
        if fmt != "text":
            hits = (index.all_hits(query, **filters) if every else
                    index.search(query, page=page, per_page=per_page, collapse=not all_copies, **filters).hits)
            write = export.csv_chunks if fmt == "csv" else export.jsonl_chunks
            for chunk in write(hits):
                click.echo(chunk, nl=False)
            return
        res = index.search(query, page=page, per_page=per_page, collapse=not all_copies, **filters)
    if as_json:
        click.echo(json.dumps(res.to_dict(), indent=2, ensure_ascii=False))
    else:
        _print_results(res)


def _emphasise(text: str, spans) -> str:
    """The matched words of ``text`` in bold yellow on a terminal, else in **stars**."""
    tty = sys.stdout.isatty()
    parts, pos = [], 0
    for start, end in spans:
        word = text[start:end]
        parts += [text[pos:start], click.style(word, bold=True, fg="yellow") if tty else f"**{word}**"]
        pos = end
    return "".join(parts) + text[pos:]


def _print_results(res: SearchResults) -> None:
    what = f' for "{res.query}"' if res.query else ""
    click.echo(f"{res.total} report{'s' if res.total != 1 else ''}{what} "
               f"(page {res.page} of {res.pages}, {res.elapsed_ms:.1f} ms)")
    if res.fallback:
        click.echo("No report holds all the words: showing reports with any of them.")
    elif res.strict_total is not None:
        click.echo(f"{res.strict_total} of them hold all the words and come first; the others hold some.")
    if res.suggestion:
        click.echo(f"Did you mean: {res.suggestion}")
    for n, hit in enumerate(res.hits, (res.page - 1) * res.per_page + 1):
        click.echo()
        click.echo(f"{n}. {_emphasise(hit.title, hit.title_spans)}")
        topics = ", ".join(hit.topics + tuple(f"{t} (auto)" for t in hit.auto_topics))
        click.echo(f"   {hit.date or 'undated'} | {hit.source}" + (f" | {topics}" if topics else "")
                   + f" | id: {hit.id}")
        click.echo(f"   {_emphasise(hit.snippet_text, hit.snippet_spans)}"
                   + (f" (p. {hit.page})" if hit.page else ""))
        if hit.similar:
            click.echo(f"   +{hit.similar} similar (--group {hit.group!r})")
    for name, values in res.facets.items():
        if values:
            shown = ", ".join(f"{'[x] ' if v.selected else ''}{v.value} ({_count(v)})" for v in values[:12])
            more = f", ... {len(values) - 12} more" if len(values) > 12 else ""
            click.echo(f"\n{name}: {shown}{more}")


def _count(value) -> str:
    """A facet value's count, automatic ones apart: "634 · +161 auto"."""
    return f"{value.curated} · +{value.auto} auto" if value.auto else str(value.count)


@main.command()
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help=option_help("index"))
@click.option("--json", "as_json", is_flag=True, help="print the topics as JSON")
def topics(index_dir, as_json) -> None:
    """List the topic vocabulary: how many reports carry each topic, curated and automatic."""
    settings = _settings(index=index_dir)
    with SearchIndex.open(settings.index) as index:
        counts = index.topic_counts()
    if as_json:
        click.echo(json.dumps([c.to_dict() for c in counts], indent=2, ensure_ascii=False))
        return
    if not counts:
        click.echo("No report has a topic.")
        return
    width = max(len("topic"), *(len(c.name) for c in counts))
    click.echo(f"{'topic':<{width}}  {'curated':>7}  {'auto':>7}  {'total':>7}")
    for c in counts:
        click.echo(f"{c.name:<{width}}  {c.curated:>7}  {c.auto:>7}  {c.total:>7}")
    click.echo(f"{len(counts)} topics; {sum(c.curated for c in counts)} curated and "
               f"{sum(c.auto for c in counts)} automatic assignments")


@main.command()
@click.option("--host", help=option_help("host"))
@click.option("--port", type=int, help=option_help("port"))
@click.option("--index", "index_dir", type=click.Path(path_type=Path), help=option_help("index"))
@click.option("--corpus", type=click.Path(path_type=Path),
              help=option_help("corpus") + " (the originals offered for download)")
@click.option("--threads", type=int, help=option_help("threads"))
@click.option("--allowed-host", "allowed_hosts", multiple=True, metavar="NAME",
              help=option_help("allowed_hosts") + " (repeat for several)")
def serve(host, port, index_dir, corpus, threads, allowed_hosts) -> None:
    """Serve the search page and JSON API with the waitress WSGI server.

    It answers only to requests for the loopback names, the --host address
    and the allowed host names (any other Host header gets a 400).
    """
    from .server import serve as run_server

    settings = _settings(host=host, port=port, index=index_dir, corpus=corpus, threads=threads,
                         allowed_hosts=allowed_hosts or None)
    run_server(settings)


from .alerts_cli import alerts  # noqa: E402  (issue 14: its own module)

main.add_command(alerts)
