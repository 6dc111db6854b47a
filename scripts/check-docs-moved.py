#!/usr/bin/env python3
"""Lists what an earlier README said that README + docs/*.md no longer say.

For moving text between the README and docs/: split the old README into
units (sentences of prose and list items, table cells, code lines,
headings) and report each unit that does not appear, whitespace, list
markers, bold marks, quotes and link targets aside, in the README and
docs/*.md of the work tree. A change of wording shows up as a unit not
found; headings are listed apart, since a moved section may take a new one.

    scripts/check-docs-moved.py OLD_README     e.g. <(git show main:README)
"""
import glob
import os
import re
import sys

LINK = re.compile(r'\[((?:[^\[\]]|\[[^\]]*\])*)\]\([^)\s]*\)')


def norm(text):
    text = LINK.sub(r'\1', text)
    text = text.replace('**', '').replace('"', '').replace('\\|', '|')
    return re.sub(r'\s+', ' ', text).strip()


def corpus(root):
    parts = []
    for path in ['README'] + sorted(glob.glob(os.path.join(root, 'docs', '*.md'))):
        with open(os.path.join(root, path), encoding='utf-8') as f:
            for line in f:
                # list markers, heading marks and table pipes at line starts
                line = re.sub(r'^\s*(?:[-*] |\d+\. |#+ )', ' ', line)
                parts.append(line)
            parts.append('\n')
    return norm(''.join(parts))


def sentences(paragraph):
    return [s for s in re.split(r'(?<=[.!?])\s+(?=[A-Z`(\[$\\])', paragraph) if s]


def units(text):
    """(kind, line number, text) of every unit of a Markdown text."""
    out, para, start, fenced = [], [], 0, False

    def flush():
        if para:
            for s in sentences(norm(' '.join(para))):
                out.append(('prose', start, s))
            para.clear()

    for n, line in enumerate(text.split('\n'), 1):
        if line.lstrip().startswith('```'):
            flush()
            fenced = not fenced
            continue
        if fenced or (line.startswith('    ') and not para):
            if line.strip():
                out.append(('code', n, norm(line)))
            continue
        if not line.strip():
            flush()
            continue
        if line.startswith('#'):
            flush()
            out.append(('heading', n, norm(line.lstrip('#'))))
            continue
        if line.startswith('|'):
            flush()
            if re.match(r'^\|[-:| ]+\|$', line):
                continue
            for cell in re.split(r'(?<!\\)\|', line.strip()[1:-1]):
                if cell.strip():
                    out.append(('cell', n, norm(cell)))
            continue
        item = re.match(r'^\s*(?:[-*]|\d+\.) (.*)', line)
        if item:
            flush()
            line = item.group(1)
        if not para:
            start = n
        para.append(line)
    flush()
    return out


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    with open(sys.argv[1], encoding='utf-8') as f:
        old = f.read()
    root = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..')
    new = corpus(root)
    found = missing = 0
    headings = []
    for kind, n, text in units(old):
        if text in new:
            found += 1
        elif kind == 'heading':
            headings.append((n, text))
        else:
            missing += 1
            print(f'old line {n} ({kind}): {text}')
    for n, text in headings:
        print(f'old line {n} (heading, not found as such): {text}')
    print(f'{found} units found, {missing} not found, {len(headings)} headings changed')
    sys.exit(1 if missing else 0)


if __name__ == '__main__':
    main()
