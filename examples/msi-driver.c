/*
 * pcicap-msi-driver: a small QNX-style driver with MSI, run against the
 * simulator. It attaches to its device, enables MSI (MANDATORY, falling
 * back to ADVISORY), reads its IRQs, runs one interrupt-service thread per
 * IRQ fd (masking the vector with the _isr calls while it handles it), makes
 * the simulated device raise interrupts, and disables and detaches.
 *
 * Usage: pcicap-msi-driver [topology]   (default examples/msi-dev.topo;
 *        PCI_CAP_MODULE_DIR must name the directory of pci_cap-0x05.so)
 * Exit status 0 when every raised interrupt was handled by its vector.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <pci/cap_msi.h>
#include <pci/pci.h>
#include <pcicap/irq.h>
#include <pcicap/pcicap.h>
#include <pcicap/sim.h>

#define VID 0x1234
#define DID 0x5a5a
#define WANT 4   /* vectors the driver would like */
#define RAISES 5 /* interrupts per vector */

typedef struct {
	pci_devhdl_t hdl;
	pci_cap_t cap;
	uint_t vector;
	int fd;      /* the IRQ's eventfd */
	int quit_fd; /* tells the thread to stop */
	atomic_uint handled;
} isr_t;

/* The interrupt service thread of one vector. */
static void *isr_thread(void *arg)
{
	isr_t *t = arg;
	struct pollfd p[2] = {{.fd = t->fd, .events = POLLIN}, {.fd = t->quit_fd, .events = POLLIN}};
	for (;;) {
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			return NULL;
		uint64_t n;
		if (read(t->fd, &n, sizeof(n)) != sizeof(n))
			continue;
		/* mask while handling, as an ISR does; unmask when done */
		cap_msi_mask_irq_entry_isr(t->hdl, t->cap, t->vector);
		atomic_fetch_add(&t->handled, (uint_t)n);
		cap_msi_unmask_irq_entry_isr(t->hdl, t->cap, t->vector);
	}
}

int main(int argc, char **argv)
{
	const char *topo = argc > 1 ? argv[1] : "examples/msi-dev.topo";
	pci_err_t err = pcicap_set_backend("sim");
	if (err == PCI_ERR_OK)
		err = pcicap_sim_load(topo);
	if (err != PCI_ERR_OK) {
		fprintf(stderr, "msi-driver: %s: %s\n", topo, pci_strerror(err));
		return 1;
	}
	pci_bdf_t bdf = pci_device_find(0, VID, DID, PCI_CCODE_ANY);
	pci_devhdl_t hdl = pci_device_attach(bdf, pci_attachFlags_OWNER, &err);
	if (!hdl) {
		fprintf(stderr, "msi-driver: attach: %s\n", pci_strerror(err));
		return 1;
	}
	int_t idx = pci_device_find_capid(bdf, CAPID_MSI);
	pci_cap_t cap = NULL;
	err = idx < 0 ? PCI_ERR_ENOENT : pci_device_read_cap(bdf, &cap, (uint_t)idx);
	if (err != PCI_ERR_OK) {
		fprintf(stderr, "msi-driver: MSI capability: %s\n", pci_strerror(err));
		return 1;
	}
	uint_t capable = cap_msi_get_nirq(cap);
	uint_t want = capable < WANT ? capable : WANT;
	cap_msi_set_nirq(hdl, cap, want);
	err = pci_device_cfg_cap_enable(hdl, pci_reqType_e_MANDATORY, cap);
	if (err == PCI_ERR_CAP_NIRQ) /* fewer IRQs than asked: take what there is */
		err = pci_device_cfg_cap_enable(hdl, pci_reqType_e_ADVISORY, cap);
	if (err != PCI_ERR_OK) {
		fprintf(stderr, "msi-driver: enable: %s\n", pci_strerror(err));
		return 1;
	}
	pci_irq_t irqs[32];
	int_t nirq = 32;
	pci_device_read_irq(hdl, &nirq, irqs);
	printf("MSI enabled: %d of %u vectors (device capable of %u)\n", nirq, want, capable);

	int quit = eventfd(0, EFD_CLOEXEC);
	isr_t isr[32];
	pthread_t thr[32];
	for (int_t v = 0; v < nirq; v++) {
		isr[v] = (isr_t){.hdl = hdl, .cap = cap, .vector = (uint_t)v, .quit_fd = quit};
		isr[v].fd = pcicap_irq_fd(hdl, irqs[v]);
		atomic_init(&isr[v].handled, 0);
		pthread_create(&thr[v], NULL, isr_thread, &isr[v]);
		/* the handler is ready: let the vector through */
		cap_msi_unmask_irq_entry(hdl, cap, (uint_t)v);
	}

	/* the device at work */
	for (int r = 0; r < RAISES; r++)
		for (int_t v = 0; v < nirq; v++)
			pcicap_sim_raise(bdf, (uint_t)v);
	/* wait (up to 5 s) until everything is handled */
	for (int ms = 0; ms < 5000; ms++) {
		uint_t total = 0;
		for (int_t v = 0; v < nirq; v++)
			total += atomic_load(&isr[v].handled);
		if (total == (uint_t)(RAISES * nirq))
			break;
		usleep(1000);
	}
	uint64_t one = 1;
	if (write(quit, &one, sizeof(one)) != sizeof(one))
		perror("eventfd");
	int ok = 1;
	for (int_t v = 0; v < nirq; v++) {
		pthread_join(thr[v], NULL);
		uint_t h = atomic_load(&isr[v].handled);
		printf("vector %d: %u of %d interrupts handled\n", v, h, RAISES);
		ok &= h == RAISES;
	}
	close(quit);

	err = pci_device_cfg_cap_disable(hdl, pci_reqType_e_UNSPECIFIED, cap);
	printf("MSI disabled: %s\n", pci_strerror(err));
	free(cap);
	ok &= pci_device_detach(hdl) == PCI_ERR_OK;
	printf("%s\n", ok ? "all interrupts handled" : "INTERRUPTS LOST");
	return ok ? 0 : 1;
}
