/*
 * A minimal external backend, loaded with PCI_HW_MODULE=<path>: one
 * function (0000:00:01.0) whose BARs are sized through config space
 * (no bar_info op), no interrupts. Variants for the loader's errors:
 * EXT_BAD_ABI (wrong ABI version) and EXT_NO_ENTRY (no entry symbol).
 */
#include <stdlib.h>
#include <string.h>

#include <pcicap/backend.h>

#define EXT_BDF PCI_BDF(0, 1, 0)

static uint8_t cfg[256];
static uint8_t wmask[256];

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static pci_err_t ext_init(void **ctx)
{
	memset(cfg, 0, sizeof(cfg));
	memset(wmask, 0, sizeof(wmask));
	put32(&cfg[0x00], 0xABCD1AB5);   /* vendor 0x1ab5, device 0xabcd */
	put32(&cfg[0x08], 0x02000001);   /* class 0x020000, rev 1 */
	put32(&cfg[0x10], 0xFE000004);   /* BAR0: 64-bit memory, 16 KiB */
	put32(&cfg[0x14], 0x00000001);   /* BAR1: upper half */
	put32(&cfg[0x18], 0x0000E001);   /* BAR2: I/O, 32 bytes */
	put32(&cfg[0x1C], 0xFD000008);   /* BAR3: 32-bit prefetchable memory, 1 MiB */
	put32(&cfg[0x30], 0xFC000000);   /* ROM: 64 KiB, disabled */
	put32(&wmask[0x04], 0x00000407); /* command: I/O, memory, master, INTx disable */
	put32(&wmask[0x10], 0xFFFFC000);
	put32(&wmask[0x14], 0xFFFFFFFF);
	put32(&wmask[0x18], 0xFFFFFFE0);
	put32(&wmask[0x1C], 0xFFF00000);
	put32(&wmask[0x30], 0xFFFF0001);
	memset(&wmask[0x40], 0xFF, 256 - 0x40);
	*ctx = cfg;
	return PCI_ERR_OK;
}

static pci_err_t ext_scan(void *ctx, pcicap_backend_dev_t **devs, size_t *n)
{
	(void)ctx;
	*devs = calloc(1, sizeof(**devs));
	if (!*devs)
		return PCI_ERR_ENOMEM;
	(*devs)[0] = (pcicap_backend_dev_t){.bdf = EXT_BDF, .uid = 1, .cfg_size = 256};
	*n = 1;
	return PCI_ERR_OK;
}

static pci_err_t ext_read(void *ctx, pci_bdf_t bdf, uint_t off, void *buf, uint_t len)
{
	(void)ctx;
	if (bdf != EXT_BDF)
		return PCI_ERR_ENODEV;
	memcpy(buf, &cfg[off], len);
	return PCI_ERR_OK;
}

static pci_err_t ext_write(void *ctx, pci_bdf_t bdf, uint_t off, const void *buf, uint_t len)
{
	(void)ctx;
	if (bdf != EXT_BDF)
		return PCI_ERR_ENODEV;
	const uint8_t *b = buf;
	for (uint_t i = 0; i < len; i++)
		cfg[off + i] =
		    (uint8_t)((cfg[off + i] & ~wmask[off + i]) | (b[i] & wmask[off + i]));
	return PCI_ERR_OK;
}

#ifdef EXT_NO_ENTRY
#define ENTRY_NAME some_other_table
#else
#define ENTRY_NAME pcicap_backend_entry
#endif
#ifdef EXT_BAD_ABI
#define EXT_ABI (PCICAP_BACKEND_ABI_VERSION + 1)
#else
#define EXT_ABI PCICAP_BACKEND_ABI_VERSION
#endif

__attribute__((visibility("default"))) extern const pcicap_backend_t ENTRY_NAME;
__attribute__((visibility("default"))) const pcicap_backend_t ENTRY_NAME = {
    .struct_size = sizeof(pcicap_backend_t),
    .abi_version = EXT_ABI,
    .name = "ext-test",
    .init = ext_init,
    .scan = ext_scan,
    .cfg_read = ext_read,
    .cfg_write = ext_write,
};
