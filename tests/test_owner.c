/* Ownership across processes: simulated devices in a named scope share
 * attach state through lock files; a dead owner releases its device. */
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "testutil.h"

#define BDF PCI_BDF(1, 0, 0)

static char rundir[256];
static char scope[64]; /* the scope of the current test */
static int scope_seq;

static int setup(void **state)
{
	(void)state;
	pcicap_sim_clear();
	char topo[256];
	snprintf(scope, sizeof(scope), "owner-test-%d-%d", (int)getpid(), ++scope_seq);
	snprintf(topo, sizeof(topo), "scope %s\ndevice 01:00.0 vendor=0x8086 device=0x10d3\n",
		 scope);
	assert_int_equal(pcicap_sim_load_string(topo, NULL), PCI_ERR_OK);
	return 0;
}

/* A child that attaches with @flags, reports the result on a pipe and then
 * waits to be killed. */
static pid_t child_attach(pci_attachFlags_t flags, pci_err_t *result)
{
	int p[2];
	assert_int_equal(pipe(p), 0);
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive a failed test */
		close(p[0]);
		pci_err_t err;
		pci_devhdl_t h = pci_device_attach(BDF, flags, &err);
		(void)h;
		if (write(p[1], &err, sizeof(err)) != sizeof(err))
			_exit(2);
		for (;;)
			pause();
	}
	close(p[1]);
	assert_int_equal(read(p[0], result, sizeof(*result)), sizeof(*result));
	close(p[0]);
	return pid;
}

static void kill_child(pid_t pid, int sig)
{
	kill(pid, sig);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
}

static void test_second_process_refused_until_owner_dies(void **state)
{
	(void)state;
	pci_err_t cerr;
	pid_t pid = child_attach(pci_attachFlags_OWNER, &cerr);
	assert_int_equal(cerr, PCI_ERR_OK);
	pci_err_t err;
	assert_null(pci_device_attach(BDF, pci_attachFlags_OWNER, &err));
	assert_int_equal(err, PCI_ERR_ATTACH_OWNED);
	assert_null(pci_device_attach(BDF, pci_attachFlags_MULTI_OWNER, &err));
	assert_int_equal(err, PCI_ERR_ATTACH_OWNED);
	assert_null(pci_device_attach(BDF, pci_attachFlags_EXCLUSIVE_OWNER, &err));
	assert_int_equal(err, PCI_ERR_ATTACH_SHARED);
	pci_devhdl_t sh = pci_device_attach(BDF, pci_attachFlags_e_SHARED, &err);
	assert_non_null(sh);
	/* the owner is killed with no chance to clean up */
	kill_child(pid, SIGKILL);
	pci_devhdl_t h = pci_device_attach(BDF, pci_attachFlags_OWNER, &err);
	assert_non_null(h);
	assert_int_equal(err, PCI_ERR_OK);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	assert_int_equal(pci_device_detach(sh), PCI_ERR_OK);
}

static void test_exclusive_across_processes(void **state)
{
	(void)state;
	pci_err_t cerr, err;
	pid_t pid = child_attach(pci_attachFlags_EXCLUSIVE_OWNER, &cerr);
	assert_int_equal(cerr, PCI_ERR_OK);
	assert_null(pci_device_attach(BDF, pci_attachFlags_e_SHARED, &err));
	assert_int_equal(err, PCI_ERR_ATTACH_EXCLUSIVE);
	assert_null(pci_device_attach(BDF, pci_attachFlags_EXCLUSIVE_OWNER, &err));
	assert_int_equal(err, PCI_ERR_ATTACH_EXCLUSIVE);
	kill_child(pid, SIGTERM);
	pci_devhdl_t h = pci_device_attach(BDF, pci_attachFlags_EXCLUSIVE_OWNER, &err);
	assert_non_null(h);
	/* and now the child is the one refused */
	pid = child_attach(pci_attachFlags_e_SHARED, &cerr);
	assert_int_equal(cerr, PCI_ERR_ATTACH_EXCLUSIVE);
	kill_child(pid, SIGKILL);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

static void test_multi_owners_across_processes(void **state)
{
	(void)state;
	pci_err_t cerr, err;
	pid_t pid = child_attach(pci_attachFlags_MULTI_OWNER, &cerr);
	assert_int_equal(cerr, PCI_ERR_OK);
	pci_devhdl_t h = pci_device_attach(BDF, pci_attachFlags_MULTI_OWNER, &err);
	assert_non_null(h);
	assert_null(pci_device_attach(BDF, pci_attachFlags_OWNER, &err));
	assert_int_equal(err, PCI_ERR_ATTACH_OWNED);
	/* reset needs the only attachment in every process */
	assert_int_equal(pci_device_reset(h, pci_resetType_e_FUNCTION), PCI_ERR_ATTACH_SHARED);
	kill_child(pid, SIGKILL);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

/* A process joining as a MULTI owner must not quiesce what the first
 * owner (another process) has live: the core's quiesce clears the MSI
 * enable bit only for the first owner anywhere. */
static void test_join_does_not_quiesce(void **state)
{
	(void)state;
	pcicap_sim_clear();
	char topo[64];
	snprintf(topo, sizeof(topo), "scope owner-test-%d-%d\n", (int)getpid(), ++scope_seq);
	assert_int_equal(pcicap_sim_load_string(topo, NULL), PCI_ERR_OK);
	/* a device whose MSI is enabled, as the other process's driver left it */
	uint8_t cfg[256] = {0x86, 0x80, 0x34, 0x12};
	cfg[0x06] = 0x10; /* capability list */
	cfg[0x34] = 0x40;
	cfg[0x40] = 0x05; /* MSI, 32-bit, 1 vector */
	cfg[0x42] = 0x01; /* enabled */
	assert_int_equal(pcicap_sim_add_config(BDF, cfg, sizeof(cfg)), PCI_ERR_OK);
	pci_err_t cerr, err;
	pid_t pid = child_attach(pci_attachFlags_MULTI_OWNER, &cerr);
	assert_int_equal(cerr, PCI_ERR_OK);
	pci_devhdl_t h = pci_device_attach(BDF, pci_attachFlags_MULTI_OWNER, &err);
	assert_non_null(h);
	assert_int_equal(tu_peek8(BDF, 0x42) & 1, 1); /* another owner is live: untouched */
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	kill_child(pid, SIGKILL);
	/* now it is the first owner anywhere: it quiesces */
	h = pci_device_attach(BDF, pci_attachFlags_MULTI_OWNER, &err);
	assert_non_null(h);
	assert_int_equal(tu_peek8(BDF, 0x42) & 1, 0);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

static void test_private_scope_by_default(void **state)
{
	(void)state;
	/* without a scope, simulated devices belong to their process */
	pcicap_sim_clear();
	assert_int_equal(
	    pcicap_sim_load_string("device 01:00.0 vendor=0x8086 device=0x10d3\n", NULL),
	    PCI_ERR_OK);
	pci_err_t cerr, err;
	fflush(NULL);
	pid_t pid = child_attach(pci_attachFlags_EXCLUSIVE_OWNER, &cerr);
	assert_int_equal(cerr, PCI_ERR_OK);
	pci_devhdl_t h = pci_device_attach(BDF, pci_attachFlags_EXCLUSIVE_OWNER, &err);
	assert_non_null(h);
	kill_child(pid, SIGKILL);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

static void test_bad_scope_or_rundir(void **state)
{
	(void)state;
	pcicap_sim_clear();
	assert_int_equal(pcicap_sim_load_string("scope ../escape\ndevice 01:00.0\n", NULL),
			 PCI_ERR_EIO);
	assert_int_equal(pcicap_sim_load_string("scope ok-name\ndevice 01:00.0\n", NULL),
			 PCI_ERR_OK);
	char saved[256];
	snprintf(saved, sizeof(saved), "%s", getenv("PCICAP_RUNTIME_DIR"));
	setenv("PCICAP_RUNTIME_DIR", "/proc/version", 1); /* not a directory */
	pci_err_t err;
	assert_null(pci_device_attach(BDF, pci_attachFlags_OWNER, &err));
	assert_int_equal(err, PCI_ERR_LOCK_FAILURE);
	setenv("PCICAP_RUNTIME_DIR", saved, 1);
	pci_devhdl_t h = pci_device_attach(BDF, pci_attachFlags_OWNER, &err);
	assert_non_null(h);
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

/* ---- lock files and the runtime directory (threat model: docs/reliability.md) ---- */

#define LOCK_NAME "0000:01:00.0.lock"

static void path_of(char *out, size_t n, const char *base, const char *rel)
{
	int len = snprintf(out, n, "%s/%s", base, rel);
	assert_true(len > 0 && (size_t)len < n);
}

static void rm_rf(const char *path)
{
	char cmd[1200];
	int n =
	    snprintf(cmd, sizeof(cmd), "chmod -R u+rwx '%s' 2>/dev/null; rm -rf '%s'", path, path);
	assert_true(n > 0 && (size_t)n < sizeof(cmd));
	assert_int_equal(system(cmd), 0);
}

static pci_err_t attach_owner_err(void)
{
	pci_err_t err;
	pci_devhdl_t h = pci_device_attach(BDF, pci_attachFlags_OWNER, &err);
	if (h)
		assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
	return err;
}

/* Whatever the umask, the lock file is 0600 and its directory 0700, both
 * ours. */
static void test_lock_file_permissions(void **state)
{
	(void)state;
	mode_t old = umask(0);
	pci_devhdl_t h = tu_attach(BDF, pci_attachFlags_OWNER);
	umask(old);
	char dir[512], file[600];
	path_of(dir, sizeof(dir), rundir, scope);
	path_of(file, sizeof(file), dir, LOCK_NAME);
	struct stat st;
	assert_int_equal(lstat(dir, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(lstat(file, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(st.st_uid, geteuid());
	assert_int_equal(pci_device_detach(h), PCI_ERR_OK);
}

/* A runtime directory someone else could change is refused
 * (PCI_ERR_LOCK_FAILURE), and nothing is created through it: a symlink, a
 * directory writable by group or others, one owned by another user (when
 * the test runs as root and can make one). */
static void test_runtime_dir_hijack(void **state)
{
	(void)state;
	char base[512], target[512], link[512];
	path_of(base, sizeof(base), rundir, "hijack");
	path_of(target, sizeof(target), rundir, "elsewhere");
	assert_int_equal(mkdir(base, 0700), 0);
	assert_int_equal(mkdir(target, 0700), 0);
	/* a symlink to a directory of ours */
	path_of(link, sizeof(link), base, "link");
	assert_int_equal(symlink(target, link), 0);
	setenv("PCICAP_RUNTIME_DIR", link, 1);
	assert_int_equal(attach_owner_err(), PCI_ERR_LOCK_FAILURE);
	char probe[600];
	path_of(probe, sizeof(probe), target, scope);
	assert_int_equal(access(probe, F_OK), -1); /* nothing made through it */
	/* group- or world-writable */
	for (int i = 0; i < 2; i++) {
		assert_int_equal(chmod(target, i ? 0707 : 0770), 0);
		setenv("PCICAP_RUNTIME_DIR", target, 1);
		assert_int_equal(attach_owner_err(), PCI_ERR_LOCK_FAILURE);
		assert_int_equal(access(probe, F_OK), -1);
	}
	assert_int_equal(chmod(target, 0700), 0);
	/* another user's (root only can make one) */
	if (geteuid() == 0) {
		assert_int_equal(chown(target, 65534, 65534), 0);
		assert_int_equal(attach_owner_err(), PCI_ERR_LOCK_FAILURE);
		assert_int_equal(access(probe, F_OK), -1);
		assert_int_equal(chown(target, 0, 0), 0);
	}
	/* as it should be: accepted */
	assert_int_equal(attach_owner_err(), PCI_ERR_OK);
	setenv("PCICAP_RUNTIME_DIR", rundir, 1);
	rm_rf(base);
	rm_rf(target);
}

/* The scope directory and the lock file are checked the same way: a scope
 * directory planted as a symlink or left writable by others, a lock file
 * planted as a symlink to a victim file or as something else than a file:
 * refused, and the victim untouched. */
static void test_lock_path_hijack(void **state)
{
	(void)state;
	char dir[512], file[600], victim[512];
	path_of(dir, sizeof(dir), rundir, scope);
	path_of(file, sizeof(file), dir, LOCK_NAME);
	path_of(victim, sizeof(victim), rundir, "victim");
	FILE *f = fopen(victim, "w");
	assert_non_null(f);
	fputs("precious\n", f);
	fclose(f);
	assert_int_equal(chmod(victim, 0644), 0);
	/* the scope directory as a symlink */
	char other[512];
	path_of(other, sizeof(other), rundir, "other-scope");
	assert_int_equal(mkdir(other, 0700), 0);
	assert_int_equal(symlink(other, dir), 0);
	assert_int_equal(attach_owner_err(), PCI_ERR_LOCK_FAILURE);
	char probe[600];
	path_of(probe, sizeof(probe), other, LOCK_NAME);
	assert_int_equal(access(probe, F_OK), -1);
	assert_int_equal(unlink(dir), 0);
	/* the scope directory writable by others */
	assert_int_equal(mkdir(dir, 0700), 0);
	assert_int_equal(chmod(dir, 0777), 0);
	assert_int_equal(attach_owner_err(), PCI_ERR_LOCK_FAILURE);
	assert_int_equal(access(file, F_OK), -1);
	assert_int_equal(chmod(dir, 0700), 0);
	/* the lock file as a symlink to the victim */
	assert_int_equal(symlink(victim, file), 0);
	assert_int_equal(attach_owner_err(), PCI_ERR_LOCK_FAILURE);
	struct stat st;
	assert_int_equal(stat(victim, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0644);
	assert_int_equal(st.st_size, 9);
	assert_int_equal(unlink(file), 0);
	/* the lock file as a FIFO and as a directory */
	assert_int_equal(mkfifo(file, 0600), 0);
	assert_int_equal(attach_owner_err(), PCI_ERR_LOCK_FAILURE);
	assert_int_equal(unlink(file), 0);
	assert_int_equal(mkdir(file, 0700), 0);
	assert_int_equal(attach_owner_err(), PCI_ERR_LOCK_FAILURE);
	assert_int_equal(rmdir(file), 0);
	/* cleaned up: accepted */
	assert_int_equal(attach_owner_err(), PCI_ERR_OK);
	assert_int_equal(unlink(victim), 0);
	rm_rf(other);
}

int main(void)
{
	snprintf(rundir, sizeof(rundir), "/tmp/pcicap-test-owner-XXXXXX");
	if (!mkdtemp(rundir))
		return 1;
	setenv("PCICAP_RUNTIME_DIR", rundir, 1);
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_second_process_refused_until_owner_dies, setup,
					    tu_teardown),
	    cmocka_unit_test_setup_teardown(test_exclusive_across_processes, setup, tu_teardown),
	    cmocka_unit_test_setup_teardown(test_multi_owners_across_processes, setup, tu_teardown),
	    cmocka_unit_test_setup_teardown(test_join_does_not_quiesce, setup, tu_teardown),
	    cmocka_unit_test_setup_teardown(test_private_scope_by_default, setup, tu_teardown),
	    cmocka_unit_test_setup_teardown(test_bad_scope_or_rundir, setup, tu_teardown),
	    cmocka_unit_test_setup_teardown(test_lock_file_permissions, setup, tu_teardown),
	    cmocka_unit_test_setup_teardown(test_runtime_dir_hijack, setup, tu_teardown),
	    cmocka_unit_test_setup_teardown(test_lock_path_hijack, setup, tu_teardown),
	};
	int rc = TU_RUN(tests);
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", rundir);
	if (system(cmd) != 0)
		rc = rc ? rc : 1;
	return rc;
}
