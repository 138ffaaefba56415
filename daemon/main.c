/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkspaced: options, configuration, wiring of backends, the loop.
 *
 * Architecture (doc/architecture.md has the long form):
 *
 *    clients (CLI, libblkspace)            peers (other blkspaced)
 *          | libqb IPC                          | corosync CPG, libquorum
 *          v                                    v
 *      ipc.c  ------------------->  node.c  <-------  transport-cpg.c | transport-sim.c
 *      status-json.c   (queries)      |               quorum-corosync.c | quorum-sim.c
 *                                     |
 *                   one domain per CPG group (domain*.c): the replicated
 *                   state machine, sans I/O; services apply its operations:
 *                   control.c (nodes.c, props.c) for the control domain
 *                                     |
 *                   store-file.c (journal + snapshot under state_dir)
 *
 * One thread runs one qb_loop. The loop dispatches the corosync handles,
 * the IPC service, timers and signals; nothing in it sleeps. The domain
 * engine only decides; node.c carries out its decisions through the
 * backends chosen here from blkspaced.conf. SIGTERM leaves every group and
 * exits once the others have seen us go (bounded). */
#include "config.h"

#include <fcntl.h>
#include <getopt.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <qb/qblog.h>
#include <qb/qbloop.h>

#include <blkspace/blkspace.h>

#include "config-file.h"
#include "ipc.h"
#include "kernel-link.h"
#include "fence-watch.h"
#include "mlog-auto-resume.h"
#include "node.h"
#include "quorum-corosync.h"
#include "quorum-sim.h"
#include "store-file.h"
#include "transport-cpg.h"
#include "transport-sim.h"

#define START_RETRY_NS (500 * 1000 * 1000ull)
#define STOP_POLL_NS (20 * 1000 * 1000ull)
#define STOP_TIMEOUT_POLLS 250 /* 5 s */
#define SIM_TICK_NS (1000 * 1000ull)
#define COMMIT_RETRY_NS (1000 * 1000 * 1000ull) /* a failed journal commit, again */
#define FORCE_STOP_WINDOW_S 10 /* a second SIGTERM within this forces a stop */

struct daemon {
	struct blkspaced_config cfg;
	bool foreground;
	qb_loop_t *loop;
	int pidfile_fd;
	int ready_fd; /* write end of the pipe the parent waits on, or -1 */
	struct ipc *ipc;
	struct node *node;
	struct kernel_link *link;
	struct auto_resume *auto_resume; /* kernel_link = netlink, mirror_auto_resume */
	struct fence_watch *fence_watch; /* with a kernel link */
	time_t refused_at; /* when a stop was refused because mirrors were active */
	struct cpg_backend *cpg;
	struct corosync_quorum *cq;
	struct file_store_backend *store;
	struct simnet *simnet; /* transport = sim: a one-node network */
	struct sim_transport sim_transport;
	struct sim_quorum sim_quorum;
	unsigned stop_polls;
	bool stopping;
	int exit_code;
};

static void usage(FILE *f)
{
	fprintf(f, "usage: blkspaced [-f] [-d] [-t] [-c FILE]\n"
	           "  -f, --foreground   stay in the foreground, log to stderr\n"
	           "  -d, --debug        log at debug level\n"
	           "  -c, --config FILE  configuration file (default %s)\n"
	           "  -t, --test-config  check the configuration, print every setting, exit\n"
	           "  -h, --help         this help\n"
	           "  -V, --version      print the version\n",
	           CONFIG_DEFAULT_PATH);
}

static void setup_logging(const struct daemon *dm)
{
	qb_log_init("blkspaced", LOG_DAEMON, dm->cfg.log_level);
	qb_log_ctl(QB_LOG_BLACKBOX, QB_LOG_CONF_ENABLED, QB_FALSE);
	qb_log_format_set(QB_LOG_STDERR, "%t %p %b");
	if (dm->foreground) {
		qb_log_ctl(QB_LOG_SYSLOG, QB_LOG_CONF_ENABLED, QB_FALSE);
		qb_log_filter_ctl(QB_LOG_STDERR, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
		                  dm->cfg.log_level);
		qb_log_ctl(QB_LOG_STDERR, QB_LOG_CONF_ENABLED, QB_TRUE);
	} else {
		qb_log_filter_ctl(QB_LOG_SYSLOG, QB_LOG_FILTER_ADD, QB_LOG_FILTER_FILE, "*",
		                  dm->cfg.log_level);
	}
}

/* Fork into the background; the parent exits once the child is ready. */
static int daemonize(struct daemon *dm)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid > 0) {
		char ok = 0;
		close(p[1]);
		ssize_t n = read(p[0], &ok, 1);
		_exit(n == 1 && ok == 'R' ? 0 : 1);
	}
	close(p[0]);
	dm->ready_fd = p[1];
	if (setsid() < 0 || chdir("/") < 0)
		return -errno;
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		dup2(null, STDERR_FILENO);
		close(null);
	}
	return 0;
}

static void signal_ready(struct daemon *dm)
{
	if (dm->ready_fd < 0)
		return;
	if (write(dm->ready_fd, "R", 1) != 1)
		qb_log(LOG_WARNING, "cannot tell the parent process we are ready, ignoring");
	close(dm->ready_fd);
	dm->ready_fd = -1;
}

/* Create the run directory and hold a locked pidfile. */
static int take_pidfile(struct daemon *dm)
{
	if (mkdir(dm->cfg.run_dir, 0755) < 0 && errno != EEXIST)
		return -errno;
	int fd = open(dm->cfg.pidfile, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	if (lockf(fd, F_TLOCK, 0) < 0) {
		close(fd);
		return -EBUSY;
	}
	char buf[32];
	int n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, buf, (size_t)n, 0) != n) {
		close(fd);
		return -EIO;
	}
	dm->pidfile_fd = fd;
	return 0;
}

static void on_sim_tick(void *data);

static void arm_sim_tick(struct daemon *dm)
{
	qb_loop_timer_handle t;
	qb_loop_timer_add(dm->loop, QB_LOOP_MED, SIM_TICK_NS, dm, on_sim_tick, &t);
}

/* transport = sim: drive the one-node network from the loop. */
static void on_sim_tick(void *data)
{
	struct daemon *dm = data;
	for (int i = 0; i < 1000; i++) {
		int changes = simnet_settle(dm->simnet);
		if (!simnet_step(dm->simnet) && changes == 0)
			break;
	}
	arm_sim_tick(dm);
}

/* Receipts go by corosync anyway; the direct datagrams only make them
 * arrive sooner, so a daemon that cannot have them goes on without. */
static void enable_direct(struct daemon *dm)
{
	char err[256];
	if (dm->cfg.direct_port == 0) {
		qb_log(LOG_INFO, "direct receipts off (direct_port = 0)");
		return;
	}
	if (cpg_backend_enable_direct(dm->cpg, (uint16_t)dm->cfg.direct_port, dm->cfg.direct_key_file,
	                              err, sizeof(err)) < 0)
		qb_log(LOG_WARNING, "direct receipts off: %s; receipts go by corosync alone", err);
	else
		qb_log(LOG_INFO, "direct receipts on UDP port %u", dm->cfg.direct_port);
}

static int create_backends(struct daemon *dm, struct node_params *np)
{
	int rc = file_store_backend_create(dm->cfg.state_dir, &dm->store);
	if (rc < 0)
		return rc;
	np->store = &file_store_ops;
	np->store_backend = dm->store;
	if (strcmp(dm->cfg.transport, "sim") == 0) {
		dm->simnet = simnet_create(1, 1);
		if (!dm->simnet)
			return -ENOMEM;
		simnet_node_up(dm->simnet, 1);
		dm->sim_transport = (struct sim_transport){ dm->simnet, 1 };
		dm->sim_quorum = (struct sim_quorum){ dm->simnet, 1 };
		np->transport = &sim_transport_ops;
		np->transport_backend = &dm->sim_transport;
		np->quorum = &sim_quorum_ops;
		np->quorum_backend = &dm->sim_quorum;
		arm_sim_tick(dm);
		return 0;
	}
	if ((rc = cpg_backend_create(dm->loop, &dm->cpg)) < 0 ||
	    (rc = corosync_quorum_create(dm->loop, &dm->cq)) < 0)
		return rc;
	enable_direct(dm);
	np->transport = &cpg_transport_ops;
	np->transport_backend = dm->cpg;
	np->quorum = &corosync_quorum_ops;
	np->quorum_backend = dm->cq;
	return 0;
}

static void start_kernel_link(struct daemon *dm);

/* The kernel link opens once the node runs: until then the kernel's sends
 * find no listener, and it retries (re-sending CTR and RESUME) on its own. */
static void on_start_retry(void *data)
{
	struct daemon *dm = data;
	int rc = node_start(dm->node);
	if (rc == 0) {
		start_kernel_link(dm);
	} else if (rc == -EAGAIN) {
		qb_loop_timer_handle t;
		qb_loop_timer_add(dm->loop, QB_LOOP_LOW, START_RETRY_NS, dm, on_start_retry, &t);
	} else if (rc < 0) {
		qb_log(LOG_ERR, "cannot start: %s; check %s", blkspace_strerror(rc), dm->cfg.state_dir);
		dm->exit_code = 1;
		qb_loop_stop(dm->loop);
	}
}

/* A journal commit that failed is otherwise tried again only when the next
 * messages arrive, and a quiet cluster may send none. */
static void on_commit_retry(void *data)
{
	struct daemon *dm = data;
	node_retry_commit(dm->node);
	qb_loop_timer_handle t;
	qb_loop_timer_add(dm->loop, QB_LOOP_LOW, COMMIT_RETRY_NS, dm, on_commit_retry, &t);
}

static void on_stop_poll(void *data)
{
	struct daemon *dm = data;
	if (node_is_stopped(dm->node) || ++dm->stop_polls >= STOP_TIMEOUT_POLLS) {
		if (!node_is_stopped(dm->node))
			qb_log(LOG_WARNING, "peers did not confirm our leave in time, exiting anyway");
		qb_loop_stop(dm->loop);
		return;
	}
	qb_loop_timer_handle t;
	qb_loop_timer_add(dm->loop, QB_LOOP_HIGH, STOP_POLL_NS, dm, on_stop_poll, &t);
}

/* Mirrors are served from here: stopping would hang their I/O until the
 * kernel gives up. Refuse, unless asked twice. */
static bool refuse_stop(struct daemon *dm)
{
	size_t logs = node_active_logs(dm->node);
	struct timespec now;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (logs == 0 || (dm->refused_at && now.tv_sec - dm->refused_at <= FORCE_STOP_WINDOW_S))
		return false;
	dm->refused_at = now.tv_sec ? now.tv_sec : 1;
	qb_log(LOG_WARNING, "refusing to stop: %zu mirror log(s) active here; suspend or remove the "
	       "mirrors first, or send the signal again within %d s to force", logs,
	       FORCE_STOP_WINDOW_S);
	return true;
}

static int32_t on_signal(int32_t sig, void *data)
{
	struct daemon *dm = data;
	if (dm->stopping || refuse_stop(dm))
		return 0;
	dm->stopping = true;
	qb_log(LOG_NOTICE, "signal %d: leaving the cluster", sig);
	/* from now on the kernel finds no listener and waits for our successor */
	kernel_link_destroy(dm->link);
	dm->link = NULL;
	auto_resume_destroy(dm->auto_resume);
	dm->auto_resume = NULL;
	fence_watch_destroy(dm->fence_watch);
	dm->fence_watch = NULL;
	node_stop(dm->node);
	on_stop_poll(dm);
	return 0;
}

static void on_kernel_request(void *data, const struct ulog_request *rq,
                              const struct ulog_origin *from)
{
	struct daemon *dm = data;
	node_kernel_request(dm->node, rq, from);
}

static void on_kernel_reply(void *host, const struct ulog_origin *to, int error, const void *data,
                            size_t len)
{
	struct daemon *dm = host;
	if (dm->link)
		kernel_link_reply(dm->link, to, error, data, len);
}

/* Mirror logs need a kernel link; without one the daemon still serves the rest. */
static void start_kernel_link(struct daemon *dm)
{
	static const struct kernel_link_callbacks cb = { .on_request = on_kernel_request };
	int rc = strcmp(dm->cfg.kernel_link, "sim") == 0
	                 ? kernel_link_sim_create(dm->loop, dm->cfg.ulog_socket, &cb, dm, &dm->link)
	                 : kernel_link_netlink_create(dm->loop, &cb, dm, &dm->link);
	if (rc < 0) {
		qb_log(LOG_WARNING, "no %s kernel link (%s): mirror logs are not served here",
		       dm->cfg.kernel_link, blkspace_strerror(rc));
		return;
	}
	qb_log(LOG_INFO, "serving mirror logs over the %s kernel link", dm->cfg.kernel_link);
	struct fence_watch_params fp = { .loop = dm->loop, .node = dm->node,
		                         .mode = dm->cfg.fencing_none ? FENCING_NONE : FENCING_PACEMAKER };
	if ((rc = fence_watch_create(&fp, &dm->fence_watch)) < 0)
		qb_log(LOG_ERR, "cannot watch for fencing (%s): regions of failed nodes resync only "
		                "after 'blkspace node confirm-fenced'", blkspace_strerror(rc));
	else if (dm->cfg.fencing_none)
		qb_log(LOG_WARNING, "fencing = none: a node that leaves counts as fenced, its mirror "
		                    "regions resync at once (only safe where nodes that leave are dead)");
	/* only the real kernel's mirrors can be suspended and resumed here */
	struct auto_resume_params ap = { .loop = dm->loop, .node = dm->node };
	if (strcmp(dm->cfg.kernel_link, "netlink") == 0 && dm->cfg.mirror_auto_resume &&
	    (rc = auto_resume_create(&ap, &dm->auto_resume)) < 0)
		qb_log(LOG_WARNING, "stalled mirror resyncs are not restarted here: %s",
		       blkspace_strerror(rc));
}

static int resolve_group(const char *name, gid_t *ret)
{
	*ret = (gid_t)-1;
	if (!name[0])
		return 0;
	struct group *g = getgrnam(name);
	if (!g)
		return -ENOENT;
	*ret = g->gr_gid;
	return 0;
}

static int run(struct daemon *dm)
{
	struct node_params np = { .name = dm->cfg.node_name[0] ? dm->cfg.node_name : NULL,
		                  .cluster_size = dm->cfg.cluster_size, .reply = ipc_on_reply,
		                  .disk = &file_mlog_disk_ops, .kernel_reply = on_kernel_reply,
		                  .kernel_host = dm };
	gid_t group;
	int rc = resolve_group(dm->cfg.ipc_group, &group);
	if (rc < 0) {
		qb_log(LOG_ERR, "ipc_group '%s' does not exist", dm->cfg.ipc_group);
		return 1;
	}
	if ((rc = create_backends(dm, &np)) < 0) {
		qb_log(LOG_ERR, "cannot set up backends: %s", blkspace_strerror(rc));
		return 1;
	}
	struct ipc_params ip = { .loop = dm->loop, .service = dm->cfg.ipc_service, .group = group };
	if ((rc = ipc_create(&ip, &dm->ipc)) < 0) {
		qb_log(LOG_ERR, "cannot serve IPC '%s': %s", dm->cfg.ipc_service, blkspace_strerror(rc));
		return 1;
	}
	np.host = dm->ipc;
	if ((rc = node_create(&np, &dm->node)) < 0) {
		qb_log(LOG_ERR, "cannot create the node: %s", blkspace_strerror(rc));
		return 1;
	}
	ipc_attach_node(dm->ipc, dm->node);
	qb_loop_signal_handle sh;
	qb_loop_signal_add(dm->loop, QB_LOOP_HIGH, SIGTERM, dm, on_signal, &sh);
	qb_loop_signal_add(dm->loop, QB_LOOP_HIGH, SIGINT, dm, on_signal, &sh);
	signal(SIGPIPE, SIG_IGN);
	on_start_retry(dm);
	on_commit_retry(dm);
	qb_log(LOG_NOTICE, "blkspaced %s started (transport %s, state %s)", PACKAGE_VERSION,
	       dm->cfg.transport, dm->cfg.state_dir);
	signal_ready(dm);
	qb_loop_run(dm->loop);
	return dm->exit_code;
}

static void teardown(struct daemon *dm)
{
	auto_resume_destroy(dm->auto_resume);
	fence_watch_destroy(dm->fence_watch);
	kernel_link_destroy(dm->link);
	ipc_destroy(dm->ipc);
	node_destroy(dm->node);
	corosync_quorum_destroy(dm->cq);
	cpg_backend_destroy(dm->cpg);
	file_store_backend_destroy(dm->store);
	simnet_destroy(dm->simnet);
	if (dm->pidfile_fd >= 0) {
		unlink(dm->cfg.pidfile);
		close(dm->pidfile_fd);
	}
	if (dm->loop)
		qb_loop_destroy(dm->loop);
	qb_log(LOG_NOTICE, "blkspaced stopped");
	qb_log_fini();
}

struct options {
	const char *config;
	bool debug;
	bool test_config;
};

static int parse_options(int argc, char **argv, struct daemon *dm, struct options *o)
{
	static const struct option opts[] = {
		{ "foreground", no_argument, NULL, 'f' }, { "debug", no_argument, NULL, 'd' },
		{ "config", required_argument, NULL, 'c' }, { "test-config", no_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' }, { "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	int c;
	while ((c = getopt_long(argc, argv, "fdc:thV", opts, NULL)) != -1) {
		switch (c) {
		case 'f': dm->foreground = true; break;
		case 'd': o->debug = true; break;
		case 'c': o->config = optarg; break;
		case 't': o->test_config = true; break;
		case 'h': usage(stdout); return 0;
		case 'V': printf("blkspaced %s\n", PACKAGE_VERSION); return 0;
		default: usage(stderr); return 64;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "blkspaced: unexpected argument '%s'\n", argv[optind]);
		return 64;
	}
	return -1;
}

int main(int argc, char **argv)
{
	struct daemon dm = { .pidfile_fd = -1, .ready_fd = -1 };
	struct options o = { .config = CONFIG_DEFAULT_PATH };
	int rc = parse_options(argc, argv, &dm, &o);
	if (rc >= 0)
		return rc;
	char err[512];
	if (config_load(o.config, o.config == (const char *)CONFIG_DEFAULT_PATH, &dm.cfg, err,
	                sizeof(err)) < 0) {
		fprintf(stderr, "blkspaced: %s\n", err);
		return 1;
	}
	if (o.debug)
		dm.cfg.log_level = LOG_DEBUG;
	if (o.test_config) {
		config_print(&dm.cfg, stdout);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	if (!dm.foreground && (rc = daemonize(&dm)) < 0) {
		fprintf(stderr, "blkspaced: cannot daemonize: %s\n", strerror(-rc));
		return 1;
	}
	setup_logging(&dm);
	if ((rc = take_pidfile(&dm)) < 0) {
		qb_log(LOG_ERR, "%s: %s", dm.cfg.pidfile,
		       rc == -EBUSY ? "another blkspaced is running" : strerror(-rc));
		qb_log_fini();
		return 1;
	}
	dm.loop = qb_loop_create();
	rc = dm.loop ? run(&dm) : 1;
	teardown(&dm);
	return rc;
}
