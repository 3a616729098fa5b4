#!/usr/bin/env python3
"""Every symbol libpcicap.so exports is documented and has a man page.

For each name `nm -D` lists as defined in the library:
  1. the Doxygen XML of the public headers has an entry for it, with a
     description; a function's entry also documents every parameter, its
     return value (unless void), an "Interrupt context" and a "Thread
     safety" paragraph, and its error list names only real codes
     (pci_err_t values, or errno names for the calls that set errno);
  2. the generated man page <name>.3 exists, is named after it, and carries
     the sections of 1.

Usage: check_docs.py LIBPCICAP_SO DOXYGEN_XML_DIR MAN3_DIR
"""
import errno
import os
import subprocess
import sys
import xml.etree.ElementTree as ET


def exports(lib):
    out = subprocess.run(['nm', '-D', '--defined-only', lib], check=True,
                         capture_output=True, text=True).stdout
    names = set()
    for line in out.splitlines():
        f = line.split()
        if len(f) == 3 and f[1] in 'TDBRVW':
            names.add(f[2].split('@')[0])
    return names


def members(xml_dir):
    """Every documented function, variable and enum value of the XML, by name."""
    found, codes = {}, set()
    for fn in os.listdir(xml_dir):
        if not fn.startswith('group__'):
            continue
        for m in ET.parse(os.path.join(xml_dir, fn)).iter('memberdef'):
            if m.get('kind') in ('function', 'variable'):
                found[m.findtext('name')] = m
            elif m.get('kind') == 'enum' and m.findtext('name') == 'pci_err_t':
                codes |= {v.findtext('name') for v in m.findall('enumvalue')}
    return found, codes


def text(el):
    return ' '.join(''.join(el.itertext()).split()) if el is not None else ''


def problems_of(name, m, codes):
    bad = []
    desc = m.find('detaileddescription')
    if not text(m.find('briefdescription')):
        bad.append('no brief description')
    if m.get('kind') == 'variable':
        return bad
    declared = [p.findtext('declname') for p in m.findall('param') if p.findtext('declname')]
    documented, retvals, pars, has_return = set(), [], set(), False
    for pl in desc.iter('parameterlist'):
        for pn in pl.iter('parametername'):
            if pl.get('kind') == 'param':
                documented.add(pn.text)
            else:
                retvals.append(pn.text)
    for ss in desc.iter('simplesect'):
        if ss.get('kind') == 'return':
            has_return = True
        elif ss.get('kind') == 'par':
            pars.add(text(ss.find('title')))
    for p in declared:
        if p not in documented:
            bad.append('parameter %s not documented' % p)
    if text(m.find('type')) != 'void' and not has_return and not retvals:
        bad.append('return value not documented')
    for want in ('Interrupt context', 'Thread safety'):
        if want not in pars:
            bad.append('no "%s" paragraph' % want)
    for r in retvals:
        if r not in codes and not (r.startswith('E') and hasattr(errno, r)):
            bad.append('error list names %s, which is no pci_err_t or errno' % r)
    return bad


def man_problems(name, kind, man3):
    path = os.path.join(man3, name + '.3')
    if not os.path.isfile(path):
        return ['no man page %s' % path]
    with open(path) as f:
        page = f.read()
    bad = []
    if '.SH NAME\n%s \\- ' % name.replace('-', '\\-') not in page:
        bad.append('man page NAME section does not name it')
    want = ['.SH SYNOPSIS', '.SH DESCRIPTION']
    if kind == 'function':
        want += ['.SH INTERRUPT CONTEXT', '.SH THREAD SAFETY']
    bad += ['man page lacks %s' % w for w in want if w not in page]
    return bad


def main():
    lib, xml_dir, man3 = sys.argv[1:4]
    names = exports(lib)
    found, codes = members(xml_dir)
    if not names or not codes:
        sys.exit('nothing to check: %d exports, %d error codes' % (len(names), len(codes)))
    failed = 0
    for name in sorted(names):
        m = found.get(name)
        bad = ['not documented in the public headers'] if m is None else problems_of(name, m, codes)
        bad += man_problems(name, m.get('kind') if m is not None else 'function', man3)
        for b in bad:
            print('%s: %s' % (name, b))
        failed += bool(bad)
    nfun = sum(1 for n in names if n in found and found[n].get('kind') == 'function')
    print('%d exported symbols (%d functions), %d with a problem' % (len(names), nfun, failed))
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
