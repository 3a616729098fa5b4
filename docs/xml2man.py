#!/usr/bin/env python3
"""Section-3 man pages from Doxygen's XML of the public headers.

One page per exported function and variable (NAME, SYNOPSIS, DESCRIPTION,
RETURN VALUE, ERRORS, INTERRUPT CONTEXT, THREAD SAFETY, SEE ALSO), named
<name>.3, and libpcicap.3, the overview: every group with its functions.
Nothing but the standard library; the output depends only on the XML.

Usage: xml2man.py [--version V] XML_DIR OUT_DIR   (OUT_DIR is replaced)
"""
import argparse
import os
import re
import shutil
import sys
import xml.etree.ElementTree as ET

# The paragraphs every entry has (docs/Doxyfile.in: isr_*, mt_*).
DIRECTIONS = {'in': ' (in)', 'out': ' (out)', 'inout': ' (in, out)'}
SECTIONS = {'Interrupt context': 'INTERRUPT CONTEXT', 'Thread safety': 'THREAD SAFETY'}


def esc(text):
    """Escape text for roff: backslashes, and a control character at a line start."""
    text = text.replace('\\', '\\e')
    return re.sub(r'(?m)^([.\'])', r'\\&\1', text)


class Inline:
    """Renders the inline content of a Doxygen <para> as roff text."""

    def __init__(self, names):
        self.names = names  # documented functions: references become name(3)

    def render(self, el, skip=()):
        out = [esc(el.text or '')]
        for child in el:
            if child.tag not in skip:
                out.append(self.element(child))
            out.append(esc(child.tail or ''))
        return ''.join(out)

    def element(self, el):
        tag = el.tag
        if tag in ('computeroutput', 'bold'):
            return '\\fB' + self.render(el) + '\\fP'
        if tag == 'emphasis':
            return '\\fI' + self.render(el) + '\\fP'
        if tag == 'ref':
            text = ''.join(el.itertext())
            name = text[:-2] if text.endswith('()') else text
            if name in self.names and text.endswith('()'):
                return '\\fB' + esc(name) + '\\fP(3)'
            return '\\fB' + esc(text) + '\\fP'
        if tag == 'ulink':
            return esc(''.join(el.itertext()))
        if tag == 'linebreak':
            return '\n.br\n'
        if tag == 'sp':
            return ' '
        if tag in ('itemizedlist', 'orderedlist'):
            items = []
            for n, li in enumerate(el.findall('listitem'), 1):
                mark = '\\(bu' if tag == 'itemizedlist' else '%d.' % n
                body = ' '.join(self.render(p).strip() for p in li.findall('para'))
                items.append('\n.IP %s 3\n%s' % (mark, body))
            return ''.join(items) + '\n.PP\n'
        if tag in ('programlisting', 'verbatim'):
            lines = [''.join(line.itertext()) for line in el.iter('codeline')] or [el.text or '']
            return '\n.PP\n.nf\n.RS 4\n' + esc('\n'.join(lines)) + '\n.RE\n.fi\n.PP\n'
        return self.render(el)


def text_of(el):
    return re.sub(r'\s+', ' ', ''.join(el.itertext())).strip() if el is not None else ''


class Entry:
    """One documented function or variable, taken apart into man sections."""

    def __init__(self, m, group, inline):
        self.name = m.findtext('name')
        self.kind = m.get('kind')
        self.group = group
        self.header = m.find('location').get('declfile') or m.find('location').get('file')
        self.type = text_of(m.find('type'))
        self.args = text_of(m.find('argsstring'))
        self.params_decl = [(text_of(p.find('type')), p.findtext('declname') or '')
                            for p in m.findall('param')]
        self.brief = ' '.join(inline.render(p).strip()
                              for p in m.find('briefdescription').findall('para'))
        self.description, self.params, self.retvals = [], [], []
        self.returns, self.see, self.sections = [], [], {}
        for p in m.find('detaileddescription').findall('para'):
            self.para(p, inline)

    def para(self, p, inline):
        body = inline.render(p, skip=('parameterlist', 'simplesect')).strip()
        if body:
            self.description.append(body)
        for child in p:
            if child.tag == 'parameterlist':
                dest = self.params if child.get('kind') == 'param' else self.retvals
                for item in child.findall('parameteritem'):
                    names = [(n.text or '', n.get('direction'))
                             for n in item.iter('parametername')]
                    desc = ' '.join(inline.render(q).strip()
                                    for q in item.find('parameterdescription').findall('para'))
                    dest.append((names, desc))
            elif child.tag == 'simplesect':
                kind = child.get('kind')
                text = ' '.join(inline.render(q).strip() for q in child.findall('para'))
                if kind == 'return':
                    self.returns.append(text)
                elif kind == 'see':
                    self.see.append(text)
                elif kind == 'par':
                    title = text_of(child.find('title'))
                    self.sections.setdefault(SECTIONS.get(title, title.upper()), []).append(text)
                else:
                    self.description.append(text)

    def synopsis(self):
        if self.kind == 'variable':
            return '.BI "extern %s " %s ;' % (esc(self.type), self.name)
        if not self.params_decl or self.params_decl == [('void', '')]:
            return '.B "%s %s(void);"' % (esc(self.type), self.name)
        parts = ['.BI "%s %s(' % (esc(self.type), self.name)]
        for i, (t, n) in enumerate(self.params_decl):
            sep = ', ' if i + 1 < len(self.params_decl) else ');'
            space = '' if t.endswith('*') else ' '
            # the const of "const pci_ba_t *const as" is part of the name side
            if n and t.endswith('*const'):
                space = ' '
            parts.append('%s%s" %s "%s' % (esc(t), space, n, sep))
        return ''.join(parts) + '"'


def page(e, version, see_all):
    title = e.name.upper().replace('\\', '')
    out = ['.\\" Generated by docs/xml2man.py from the comments of <%s>; do not edit.' % e.header,
           '.TH "%s" 3 "" "pcicap %s" "pcicap Library Functions"' % (title, version),
           '.SH NAME', '%s \\- %s' % (e.name, e.brief.rstrip('.') or e.group[1]),
           '.SH SYNOPSIS', '.nf', '.B #include <%s>' % e.header, '.PP', e.synopsis(), '.fi',
           '.PP', 'Compile and link with \\fI$(pkg\\-config \\-\\-cflags \\-\\-libs pcicap)\\fP.']
    out.append('.SH DESCRIPTION')
    out.append('\n.PP\n'.join(e.description) if e.description else e.brief)
    if e.params:
        out.append('.SS Parameters')
        for names, desc in e.params:
            for n, direction in names:
                out.append('.TP\n.I %s%s' % (n, DIRECTIONS.get(direction, '')))
            out.append(desc)
    if e.returns or e.kind == 'function' and e.type != 'void':
        out.append('.SH RETURN VALUE')
        out.append('\n.PP\n'.join(e.returns))
    if e.retvals:
        out.append('.SH ERRORS')
        for names, desc in e.retvals:
            out.append('.TP\n.B %s\n%s' % (', '.join(n for n, _ in names), desc))
    for sect in ('INTERRUPT CONTEXT', 'THREAD SAFETY'):
        if sect in e.sections:
            out.append('.SH ' + sect)
            out.append('\n.PP\n'.join(e.sections[sect]))
    for sect, texts in e.sections.items():
        if sect not in ('INTERRUPT CONTEXT', 'THREAD SAFETY'):
            out.append('.SH ' + sect)
            out.append('\n.PP\n'.join(texts))
    out.append('.SH SEE ALSO')
    refs = [s for s in e.see]
    refs.append('\\fBlibpcicap\\fP(3), the group "%s" of the HTML reference' % esc(e.group[1]))
    out.append(',\n'.join(refs))
    return '\n'.join(out) + '\n'


def overview(groups, version):
    out = ['.\\" Generated by docs/xml2man.py from the public headers; do not edit.',
           '.TH "LIBPCICAP" 3 "" "pcicap %s" "pcicap Library Functions"' % version,
           '.SH NAME',
           'libpcicap \\- the QNX PCI server client API (libpci, MSI, MSI\\-X) for Linux userspace',
           '.SH SYNOPSIS', '.nf', '.B #include <pci/pci.h>', '.B #include <pci/cap_msi.h>',
           '.B #include <pci/cap_msix.h>', '.B #include <pcicap/pcicap.h>',
           '.B #include <pcicap/irq.h>', '.B #include <pcicap/sim.h>', '.fi', '.PP',
           'Compile and link with \\fI$(pkg\\-config \\-\\-cflags \\-\\-libs pcicap)\\fP.',
           '.SH DESCRIPTION',
           'Every function below has a page of its own. Each page lists the',
           'function\'s parameters, every error code it returns and when, whether it',
           'may be called in interrupt context (a signal handler, or where a QNX',
           'driver may call only the _isr functions), and its thread safety.']
    for (gid, title, brief), entries in groups:
        if not entries:
            continue
        out.append('.SS "%s"' % esc(title))
        if brief:
            out.append(brief)
        for e in entries:
            out.append('.TP\n.BR %s (3)\n%s' % (e.name, e.brief))
    out.append('.SH SEE ALSO')
    out.append('\\fBpcicap\\-tool\\fP(1); the HTML reference and docs/*.md of the pcicap sources')
    return '\n'.join(out) + '\n'


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--version', default='')
    ap.add_argument('xml_dir')
    ap.add_argument('out_dir')
    args = ap.parse_args()
    index = ET.parse(os.path.join(args.xml_dir, 'index.xml')).getroot()
    group_ids = [c.get('refid') for c in index.findall('compound') if c.get('kind') == 'group']
    trees = {g: ET.parse(os.path.join(args.xml_dir, g + '.xml')).getroot() for g in group_ids}
    names = {m.findtext('name') for t in trees.values() for m in t.iter('memberdef')
             if m.get('kind') == 'function'}
    inline = Inline(names)
    groups, seen = [], set()
    for gid in group_ids:
        cdef = trees[gid].find('compounddef')
        title = text_of(cdef.find('title'))
        brief = ' '.join(inline.render(p).strip()
                         for p in cdef.find('briefdescription').findall('para'))
        entries = []
        for m in cdef.iter('memberdef'):
            name = m.findtext('name')
            if m.get('kind') in ('function', 'variable') and name not in seen:
                seen.add(name)
                entries.append(Entry(m, (gid, title), inline))
        groups.append(((gid, title, brief), entries))
    if os.path.isdir(args.out_dir):
        shutil.rmtree(args.out_dir)
    os.makedirs(args.out_dir)
    n = 0
    for _, entries in groups:
        for e in entries:
            with open(os.path.join(args.out_dir, e.name + '.3'), 'w') as f:
                f.write(page(e, args.version, names))
            n += 1
    with open(os.path.join(args.out_dir, 'libpcicap.3'), 'w') as f:
        f.write(overview(groups, args.version))
    if n == 0:
        sys.exit('xml2man: no functions found in ' + args.xml_dir)


if __name__ == '__main__':
    main()
