"""The static site's HTML and CSS: string templates, every value through :func:`html.escape`.

Plain HTML and one stylesheet (``site.css`` at the site's root, with a print section); no
JavaScript and nothing requested outside the site. Every link is relative (:func:`relative`), so
the folder can be served from any host and any path; only the ``<link rel=canonical>`` of a page
(when the site has a base URL) and the "open in the app" link (when an app URL is given) are
absolute. :mod:`analysis.microscope.site_export` decides what the pages hold; this module only
writes them.
"""

from __future__ import annotations

import html
import posixpath
from collections.abc import Sequence
from dataclasses import dataclass

CSS_PATH = "site.css"

CSS = """\
:root{--ink:#1d1d22;--muted:#5b5b66;--line:#d9d9e0;--tile:#e9e9ee;--accent:#1f5fbf}
*{box-sizing:border-box}
body{margin:0;font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:#fff}
header.site{border-bottom:1px solid var(--line);padding:.55rem 1rem;font-size:13px;color:var(--muted)}
header.site a{color:var(--muted)}
main{max-width:1200px;margin:0 auto;padding:1rem}
h1{font-size:1.55rem;margin:.2rem 0 .3rem;overflow-wrap:anywhere}
h2{font-size:1.15rem;margin:1.1rem 0 .4rem}
h3{font-size:.95rem;margin:.8rem 0 .3rem}
a{color:var(--accent)}
.meta,.note{color:var(--muted);font-size:13px;overflow-wrap:anywhere}
.nav{display:flex;flex-wrap:wrap;gap:.4rem 1rem;margin:.4rem 0 .8rem;font-size:14px}
.pending-note{background:#fff6e0;border:1px solid #f0d9a0;border-radius:4px;padding:.4rem .6rem;font-size:14px}
.grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(84px,1fr));gap:8px;margin:.5rem 0}
.tile{display:block;text-decoration:none;color:inherit}
.frame{position:relative;aspect-ratio:1/1;overflow:hidden;border-radius:4px;background:var(--tile)}
.frame img{width:100%;height:100%;object-fit:cover;image-rendering:pixelated;display:block}
.badge{position:absolute;left:3px;bottom:3px;font-size:10px;line-height:1;padding:2px 4px;border-radius:3px;
 background:rgba(0,0,0,.62);color:#fff}
.tile .label{font-size:12px;text-align:center;margin-top:2px}
.unit{display:grid;grid-template-columns:1fr 1fr;gap:1.5rem}
.unit>section{min-width:0}
@media (max-width:800px){.unit{grid-template-columns:1fr}}
figure{margin:0 0 1rem}
figure img.vis{width:256px;max-width:100%;image-rendering:pixelated;display:block}
.row{display:flex;flex-wrap:wrap;gap:6px}
.row img{image-rendering:pixelated}
.vis-row img{width:120px;max-width:calc(50% - 6px)}
figcaption{font-size:13px;color:var(--muted);margin-top:.25rem}
.thumbs{display:grid;grid-template-columns:repeat(5,minmax(0,1fr));gap:6px}
.thumbs figure{margin:0}
.thumbs img{width:100%;image-rendering:pixelated;display:block;border-radius:3px}
.thumbs figcaption{text-align:center;margin:0;font-size:11px;overflow-wrap:anywhere}
img.histogram{width:100%;max-width:480px;display:block}
.table-wrap{max-width:100%;overflow-x:auto}
table{border-collapse:collapse;font-size:14px;margin:.3rem 0}
th,td{border-bottom:1px solid var(--line);padding:.2rem .6rem;text-align:left}
td.num{text-align:right;font-variant-numeric:tabular-nums}
ul.layers{padding-left:1.2rem}
.connections{display:grid;grid-template-columns:repeat(auto-fill,minmax(84px,1fr));gap:8px}
footer{border-top:1px solid var(--line);margin-top:2rem;padding:.6rem 1rem;font-size:12px;color:var(--muted)}
@media print{
 header.site,.nav,.noprint{display:none}
 main{max-width:none;padding:0}
 body{font-size:11pt}
 a{color:inherit;text-decoration:none}
 .unit{grid-template-columns:1fr 1fr}
 figure,.tile,table,.thumbs{break-inside:avoid}
 .table-wrap{overflow:visible}
 .grid{grid-template-columns:repeat(8,1fr)}
}
"""


def esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def relative(from_page: str, to_path: str) -> str:
    """The relative href from the page at ``from_page`` to ``to_path`` (both site paths, ``/``-separated)."""
    return posixpath.relpath(to_path, posixpath.dirname(from_page) or ".")


@dataclass(frozen=True, slots=True, kw_only=True)
class Crumb:
    label: str
    path: str | None  # None: the current page (not a link)


def page(
    *,
    path: str,
    title: str,
    body: str,
    crumbs: Sequence[Crumb] = (),
    canonical: str | None = None,
    head_extra: str = "",
) -> str:
    """A whole HTML document at site path ``path`` (links in ``body`` are already relative)."""
    trail = " › ".join(
        f'<a href="{esc(relative(path, c.path))}">{esc(c.label)}</a>' if c.path else esc(c.label) for c in crumbs
    )
    canonical_tag = f'<link rel="canonical" href="{esc(canonical)}">\n' if canonical else ""
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width,initial-scale=1">\n'
        f"<title>{esc(title)}</title>\n"
        f'<link rel="stylesheet" href="{esc(relative(path, CSS_PATH))}">\n'
        f"{canonical_tag}{head_extra}</head>\n<body>\n"
        f'<header class="site"><nav aria-label="breadcrumbs">{trail}</nav></header>\n'
        f"<main>\n{body}\n</main>\n"
        '<footer>A static copy exported by Loupe<span class="noprint"> (python -m analysis export-site)</span>; '
        'every file is listed with its SHA-256 in <a href="'
        f'{esc(relative(path, "manifest.json"))}">manifest.json</a>.</footer>\n'
        "</body>\n</html>\n"
    )


def redirect_page(*, path: str, target: str, title: str, canonical: str | None) -> str:
    """A ``latest`` alias: a meta refresh to the pinned page (no JavaScript), with a visible link."""
    href = esc(relative(path, target))
    canonical_tag = f'<link rel="canonical" href="{esc(canonical)}">\n' if canonical else ""
    return (
        "<!doctype html>\n"
        '<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta http-equiv="refresh" content="0; url={href}">\n'
        f"<title>{esc(title)}</title>\n{canonical_tag}</head>\n<body>\n"
        f'<p>This is the latest revision\'s page: <a href="{href}">{esc(title)}</a>.</p>\n'
        "</body>\n</html>\n"
    )


def tile(*, href: str, label: str, image: str | None, badge: str = "", title: str = "") -> str:
    """One uniform square tile of a grid; ``image`` and ``href`` are relative paths."""
    img = f'<img alt="{esc(label)}" src="{esc(image)}" loading="lazy">' if image else ""
    mark = f'<span class="badge">{esc(badge)}</span>' if badge else ""
    return (
        f'<a class="tile" href="{esc(href)}" title="{esc(title or label)}">'
        f'<div class="frame">{img}{mark}</div><div class="label">{esc(label)}</div></a>'
    )


def thumbnails(items: Sequence[tuple[str, str]]) -> str:
    """A row of dataset examples: (relative image path, caption) each, loaded after the page's visualization."""
    figures = "".join(
        f'<figure><img loading="lazy" decoding="async" src="{esc(src)}" alt="{esc(caption)}">'
        f"<figcaption>{esc(caption)}</figcaption></figure>"
        for src, caption in items
    )
    return f'<div class="thumbs">{figures}</div>'


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], *, numeric: Sequence[bool] = ()) -> str:
    head = "".join(f"<th>{esc(h)}</th>" for h in headers)
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{esc(v)}</td>' if (i < len(numeric) and numeric[i]) else f"<td>{esc(v)}</td>"
            for i, v in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f'<div class="table-wrap"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


def sitemap(urls: Sequence[str]) -> str:
    entries = "".join(f"  <url><loc>{esc(url)}</loc></url>\n" for url in urls)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">\n'
        f"{entries}</urlset>\n"
    )
