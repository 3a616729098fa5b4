/*
 * pcicap-msix-driver: a small QNX-style driver for a multi-queue NIC with
 * MSI-X, run against the simulator. It gives each queue a table entry and a
 * disposition (the two transmit queues share one IRQ slot), enables MSI-X
 * (MANDATORY, falling back to ADVISORY, which folds the slots onto the IRQs
 * there are), runs one interrupt-service thread per IRQ fd that masks the
 * queue's entry with the _isr calls while it services the queue, makes the
 * simulated device post work and raise interrupts, holds everything back
 * with the function mask around a reconfiguration, and disables and
 * detaches.
 *
 * The device side (a queue's "work posted" count, the raise) is simulated
 * in this process: on hardware the handler would read the queue's status
 * registers instead of `posted`.
 *
 * Usage: pcicap-msix-driver [topology]   (default examples/msix-nic.topo;
 *        PCI_CAP_MODULE_DIR must name the directory of pci_cap-0x11.so)
 * Exit status 0 when every piece of work was handled by its own queue.
 */
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <pci/cap_msix.h>
#include <pci/pci.h>
#include <pcicap/irq.h>
#include <pcicap/pcicap.h>
#include <pcicap/sim.h>

#define VID    0x1234
#define DID    0x5a11
#define ROUNDS 3 /* interrupts per queue in the first round */

/* The NIC's queues: table entry and IRQ slot (disposition) of each. */
typedef struct {
	const char *name;
	uint_t entry;
	int_t slot;
	uint_t irq_index;    /* which IRQ serves it after folding */
	atomic_uint posted;  /* device side: work posted, not yet taken */
	atomic_uint total;   /* device side: work posted in all */
	atomic_uint handled; /* driver side: work taken by the queue's thread */
} queue_t;

static queue_t queues[] = {
    {.name = "admin", .entry = 0, .slot = 0},
    {.name = "rx0", .entry = 1, .slot = 1},
    {.name = "rx1", .entry = 2, .slot = 2},
    {.name = "rx2", .entry = 3, .slot = 3},
    {.name = "rx3", .entry = 4, .slot = 4},
    {.name = "tx0", .entry = 5, .slot = 5}, /* tx0 and tx1: a shared pair */
    {.name = "tx1", .entry = 6, .slot = 5},
};
#define NQ     (sizeof(queues) / sizeof(queues[0]))
#define NSLOTS 6

typedef struct {
	pci_devhdl_t hdl;
	pci_cap_t cap;
	uint_t index; /* the IRQ's position in pci_device_read_irq() order */
	int fd;       /* its eventfd */
	int quit_fd;
} isr_t;

/* The interrupt service thread of one IRQ: every queue folded onto it is
 * serviced with its entry masked, as an ISR would. */
static void *isr_thread(void *arg)
{
	isr_t *t = arg;
	struct pollfd p[2] = {{.fd = t->fd, .events = POLLIN},
			      {.fd = t->quit_fd, .events = POLLIN}};
	for (;;) {
		if (poll(p, 2, -1) < 0)
			continue;
		if (p[1].revents)
			return NULL;
		uint64_t n;
		if (read(t->fd, &n, sizeof(n)) != sizeof(n))
			continue;
		for (size_t q = 0; q < NQ; q++) {
			queue_t *qu = &queues[q];
			if (qu->irq_index != t->index)
				continue; /* another thread's queue */
			cap_msix_mask_irq_entry_isr(t->hdl, t->cap, qu->entry);
			uint_t work = atomic_exchange(&qu->posted, 0);
			atomic_fetch_add(&qu->handled, work);
			cap_msix_unmask_irq_entry_isr(t->hdl, t->cap, qu->entry);
		}
	}
}

/* The device posts one piece of work on queue @q and signals its entry. */
static void device_post(pci_bdf_t bdf, queue_t *q)
{
	atomic_fetch_add(&q->posted, 1);
	atomic_fetch_add(&q->total, 1);
	pcicap_sim_raise(bdf, q->entry);
}

/* Wait (up to 5 s) until every queue's work is handled. */
static bool drained(void)
{
	for (int ms = 0; ms < 5000; ms++) {
		bool done = true;
		for (size_t q = 0; q < NQ; q++)
			done &= atomic_load(&queues[q].handled) == atomic_load(&queues[q].total);
		if (done)
			return true;
		usleep(1000);
	}
	return false;
}

static int fail(const char *what, pci_err_t err)
{
	fprintf(stderr, "msix-driver: %s: %s\n", what, pci_strerror(err));
	return 1;
}

int main(int argc, char **argv)
{
	const char *topo = argc > 1 ? argv[1] : "examples/msix-nic.topo";
	pci_err_t err = pcicap_set_backend("sim");
	if (err == PCI_ERR_OK)
		err = pcicap_sim_load(topo);
	if (err != PCI_ERR_OK)
		return fail(topo, err);
	pci_bdf_t bdf = pci_device_find(0, VID, DID, PCI_CCODE_ANY);
	pci_devhdl_t hdl = pci_device_attach(bdf, pci_attachFlags_OWNER, &err);
	if (!hdl)
		return fail("attach", err);
	int_t idx = pci_device_find_capid(bdf, CAPID_MSIX);
	pci_cap_t cap = NULL;
	err = idx < 0 ? PCI_ERR_ENOENT : pci_device_read_cap(bdf, &cap, (uint_t)idx);
	if (err != PCI_ERR_OK)
		return fail("MSI-X capability", err);
	uint_t nent = cap_msix_get_nirq(cap);
	printf("MSI-X table: %u entries\n", nent);

	/* 1. configure, as QNX drivers do: function mask, every entry's
	 *    disposition (-1 for those the NIC does not use), the count */
	cap_msix_mask_irq_all(hdl, cap);
	for (uint_t e = 0; e < nent; e++) {
		int_t d = -1;
		for (size_t q = 0; q < NQ; q++)
			if (queues[q].entry == e)
				d = queues[q].slot;
		if ((err = cap_msix_set_irq_entry(hdl, cap, e, d)) != PCI_ERR_OK)
			return fail("set_irq_entry", err);
	}
	if ((err = cap_msix_set_nirq(hdl, cap, NSLOTS)) != PCI_ERR_OK)
		return fail("set_nirq", err);

	/* 2. enable: exactly what we asked for, else what there is */
	err = pci_device_cfg_cap_enable(hdl, pci_reqType_e_MANDATORY, cap);
	if (err == PCI_ERR_CAP_NIRQ) {
		printf("enable MANDATORY (%d IRQs): %s\n", NSLOTS, pci_strerror(err));
		err = pci_device_cfg_cap_enable(hdl, pci_reqType_e_ADVISORY, cap);
	}
	if (err != PCI_ERR_OK)
		return fail("enable", err);
	pci_irq_t irqs[NSLOTS];
	int_t nirq = NSLOTS;
	if ((err = pci_device_read_irq(hdl, &nirq, irqs)) != PCI_ERR_OK || nirq < 1)
		return fail("read_irq", err);
	printf("MSI-X enabled with %d IRQs for %d slots\n", nirq, NSLOTS);
	for (size_t q = 0; q < NQ; q++) {
		queues[q].irq_index = (uint_t)queues[q].slot % (uint_t)nirq; /* the folding rule */
		printf("  %-5s entry %u  slot %d  -> IRQ %u\n", queues[q].name, queues[q].entry,
		       queues[q].slot, queues[q].irq_index);
	}

	/* 3. one service thread per IRQ, then let the entries through */
	int quit = eventfd(0, EFD_CLOEXEC);
	isr_t isr[NSLOTS];
	pthread_t thr[NSLOTS];
	for (int_t i = 0; i < nirq; i++) {
		isr[i] = (isr_t){.hdl = hdl, .cap = cap, .index = (uint_t)i, .quit_fd = quit};
		isr[i].fd = pcicap_irq_fd(hdl, irqs[i]);
		if (isr[i].fd < 0) {
			perror("pcicap_irq_fd");
			return 1;
		}
		pthread_create(&thr[i], NULL, isr_thread, &isr[i]);
	}
	for (size_t q = 0; q < NQ; q++)
		cap_msix_unmask_irq_entry(hdl, cap, queues[q].entry);
	cap_msix_unmask_irq_all(hdl, cap);

	/* 4. traffic */
	for (int r = 0; r < ROUNDS; r++)
		for (size_t q = 0; q < NQ; q++)
			device_post(bdf, &queues[q]);
	bool ok = drained();
	printf("traffic: %s\n", ok ? "all handled" : "NOT HANDLED");

	/* 5. a reconfiguration under the function mask: what the device
	 *    signals meanwhile waits in the PBA and comes out at the end */
	cap_msix_mask_irq_all(hdl, cap);
	for (size_t q = 0; q < NQ; q++)
		device_post(bdf, &queues[q]);
	cap_msix_pba_t *pba = cap_msix_get_pba_ptr(hdl, cap);
	uint_t pending = 0;
	for (uint_t w = 0; pba && w < (nent + 63) / 64; w++)
		pending += (uint_t)__builtin_popcountll(pba[w]);
	printf("reconfiguration: %u interrupts pending under the function mask\n", pending);
	cap_msix_unmask_irq_all(hdl, cap);
	bool ok2 = drained();
	printf("after the function mask: %s\n", ok2 ? "all handled" : "NOT HANDLED");
	ok &= ok2 && pending == NQ;

	/* 6. stop the threads; clean up as QNX drivers do: function mask,
	 *    every entry unused, disable; detach */
	uint64_t one = 1;
	if (write(quit, &one, sizeof(one)) != sizeof(one))
		perror("eventfd");
	for (int_t i = 0; i < nirq; i++)
		pthread_join(thr[i], NULL);
	close(quit);
	cap_msix_mask_irq_all(hdl, cap);
	for (uint_t e = 0; e < nent; e++)
		cap_msix_set_irq_entry(hdl, cap, e, -1);
	err = pci_device_cfg_cap_disable(hdl, pci_reqType_e_UNSPECIFIED, cap);
	printf("MSI-X disabled: %s\n", pci_strerror(err));
	ok &= err == PCI_ERR_OK;
	free(cap);
	ok &= pci_device_detach(hdl) == PCI_ERR_OK;

	for (size_t q = 0; q < NQ; q++) {
		uint_t h = atomic_load(&queues[q].handled), t = atomic_load(&queues[q].total);
		printf("%-5s %u of %u handled on IRQ %u\n", queues[q].name, h, t,
		       queues[q].irq_index);
		ok &= h == t;
	}
	printf("%s\n", ok ? "every interrupt handled by its queue" : "INTERRUPTS LOST");
	return ok ? 0 : 1;
}
