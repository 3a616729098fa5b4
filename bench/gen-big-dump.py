#!/usr/bin/env python3
"""Write an lspci -xxxx dump of N functions (default 4096), each a PCIe
endpoint with PM, MSI (64-bit, maskable), MSI-X and PCIe capabilities and
two extended capabilities. Usage: gen-big-dump.py OUT [N]"""
import sys

def function_image(i):
    c = bytearray(4096)
    def put(off, val, n):
        c[off:off + n] = val.to_bytes(n, 'little')
    put(0x00, 0x8086, 2); put(0x02, 0x1500 + (i % 64), 2)
    put(0x04, 0x0406, 2); put(0x06, 0x0010, 2)          # Status.CapList
    c[0x08] = i % 7                                      # revision
    put(0x09, 0x020000, 3)                               # Ethernet
    put(0x10, 0xf0000000 | ((i % 256) << 20) | 0x4, 4)   # BAR0 mem64
    put(0x18, 0xe0000000 | ((i % 256) << 16), 4)         # BAR2 mem32
    put(0x2c, 0x00018086, 4)
    c[0x34] = 0x40; c[0x3c] = 0x0b; c[0x3d] = 0x01
    # PM
    c[0x40] = 0x01; c[0x41] = 0x50; put(0x42, 0x0023, 2)
    # MSI: 64-bit, per-vector masking, MMC = 8 vectors, enabled on odd functions
    c[0x50] = 0x05; c[0x51] = 0x70
    put(0x52, 0x0186 | (i & 1), 2)
    put(0x54, 0xfee00000 | ((i % 64) << 12), 4); put(0x58, 0, 4)
    put(0x5c, 0x4000 + (i % 256), 2)
    put(0x60, i & 0xff, 4); put(0x64, 0, 4)
    # MSI-X: 16 entries, table in BAR2 at 0, PBA in BAR2 at 0x800
    c[0x70] = 0x11; c[0x71] = 0xa0
    put(0x72, 0x000f | (0x8000 if not i & 1 else 0), 2)
    put(0x74, 0x00000002, 4); put(0x78, 0x00000802, 4)
    # PCIe endpoint, version 2
    c[0xa0] = 0x10; c[0xa1] = 0x00; put(0xa2, 0x0002, 2)
    # extended: AER at 0x100 -> DSN at 0x140
    put(0x100, 0x0001 | (1 << 16) | (0x140 << 20), 4)
    put(0x140, 0x0003 | (1 << 16), 4); put(0x144, i, 4)
    return c

def main():
    out = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 4096
    with open(out, 'w') as f:
        for i in range(n):
            bus, dev, fn = i // 256, (i // 8) % 32, i % 8
            f.write('%02x:%02x.%d Ethernet controller: Intel Corporation Device\n' % (bus, dev, fn))
            img = function_image(i)
            for off in range(0, 4096, 16):
                f.write('%02x: %s\n' % (off, ' '.join('%02x' % b for b in img[off:off + 16])))
            f.write('\n')

if __name__ == '__main__':
    main()
