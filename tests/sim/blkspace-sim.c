/* SPDX-License-Identifier: GPL-2.0-or-later */
/* blkspace-sim: run the deterministic simulator over a range of seeds.
 * Exit 0 only if every seed passed; a failing seed and step are printed and
 * reproduce with --seeds S-S. Last line: "seeds=N steps=N violations=N". */
#include "config.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <qb/qblog.h>

#include "sim.h"

static const struct workload_ops *const workloads[] = { &property_workload, &mlog_workload };

static void usage(FILE *f)
{
	fprintf(f,
	        "usage: blkspace-sim [--nodes N] [--seeds A-B] [--steps N]\n"
	        "                    [--faults kill,restart,partition,merge,split-round,disk-error,\n"
	        "                              survivors]\n"
	        "                    [--workload NAME] [--verbose]\n"
	        "  --nodes N        nodes in the simulated cluster (default 3, at most %d)\n"
	        "  --seeds A-B      run seeds A to B (default 1-100); a single seed: A\n"
	        "  --steps N        random steps per seed before healing (default 400)\n"
	        "  --faults LIST    faults to inject (default none); split-round: a partition\n"
	        "                   while one node is active in a new round and another not yet;\n"
	        "                   disk-error: a node's journal commits fail for a while;\n"
	        "                   survivors: after healing, half the time a minority crashes\n"
	        "                   and stays down (fenced): the others must finish without it\n"
	        "  --workload NAME  client workload: property (default) or mlog\n"
	        "  --verbose        log the daemons' messages and the faults to stderr\n",
	        SIMNET_MAX_NODES);
}

static int parse_faults(const char *arg, unsigned *ret)
{
	char *copy = strdup(arg), *save = NULL;
	unsigned f = 0;
	int rc = 0;
	for (char *t = strtok_r(copy, ",", &save); t && rc == 0; t = strtok_r(NULL, ",", &save)) {
		if (strcmp(t, "kill") == 0)
			f |= SIM_FAULT_KILL;
		else if (strcmp(t, "restart") == 0)
			f |= SIM_FAULT_RESTART;
		else if (strcmp(t, "partition") == 0)
			f |= SIM_FAULT_PARTITION;
		else if (strcmp(t, "merge") == 0)
			f |= SIM_FAULT_MERGE;
		else if (strcmp(t, "split-round") == 0)
			f |= SIM_FAULT_SPLIT_ROUND;
		else if (strcmp(t, "disk-error") == 0)
			f |= SIM_FAULT_DISK_ERROR;
		else if (strcmp(t, "survivors") == 0)
			f |= SIM_FAULT_SURVIVORS;
		else if (strcmp(t, "none") != 0)
			rc = -1;
	}
	free(copy);
	*ret = f;
	return rc;
}

static int parse_range(const char *arg, uint64_t *a, uint64_t *b)
{
	char *end;
	*a = strtoull(arg, &end, 10);
	if (*end == '\0') {
		*b = *a;
		return 0;
	}
	if (*end != '-')
		return -1;
	*b = strtoull(end + 1, &end, 10);
	return *end == '\0' && *a <= *b ? 0 : -1;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "nodes", required_argument, NULL, 'n' }, { "seeds", required_argument, NULL, 's' },
		{ "steps", required_argument, NULL, 't' }, { "faults", required_argument, NULL, 'f' },
		{ "workload", required_argument, NULL, 'w' }, { "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' }, { NULL, 0, NULL, 0 },
	};
	struct sim sim = { .n_nodes = 3, .workload = &property_workload };
	const char *faults_arg = "none";
	uint64_t first = 1, last = 100, steps = 400;
	int c;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 'n': sim.n_nodes = (unsigned)atoi(optarg); break;
		case 's':
			if (parse_range(optarg, &first, &last) < 0) {
				fprintf(stderr, "blkspace-sim: bad --seeds '%s' (want A-B)\n", optarg);
				return 64;
			}
			break;
		case 't': steps = strtoull(optarg, NULL, 10); break;
		case 'f':
			faults_arg = optarg;
			if (parse_faults(optarg, &sim.faults) < 0) {
				fprintf(stderr, "blkspace-sim: bad --faults '%s'\n", optarg);
				return 64;
			}
			break;
		case 'w':
			sim.workload = NULL;
			for (size_t i = 0; i < sizeof(workloads) / sizeof(workloads[0]); i++)
				if (strcmp(workloads[i]->name, optarg) == 0)
					sim.workload = workloads[i];
			if (!sim.workload) {
				fprintf(stderr, "blkspace-sim: unknown workload '%s'\n", optarg);
				return 64;
			}
			break;
		case 'v': sim.verbose = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 64;
		}
	}
	if (optind < argc || sim.n_nodes < 1 || sim.n_nodes > SIMNET_MAX_NODES) {
		usage(stderr);
		return 64;
	}
	sim_setup_logging("blkspace-sim", sim.verbose);
	uint64_t seeds = 0, violations = 0;
	for (uint64_t seed = first; seed <= last; seed++) {
		sim.seed = seed;
		sim.violation[0] = '\0';
		seeds++;
		if (sim_run(&sim, steps) < 0) {
			violations++;
			printf("FAIL seed=%llu step=%llu: %s\n", (unsigned long long)seed,
			       (unsigned long long)sim.step, sim.violation);
			printf("  reproduce: blkspace-sim --nodes %u --seeds %llu --steps %llu --workload %s "
			       "--faults %s --verbose\n",
			       sim.n_nodes, (unsigned long long)seed, (unsigned long long)steps,
			       sim.workload->name, faults_arg);
		}
	}
	printf("requests: acknowledged=%llu refused=%llu abandoned=%llu\n",
	       (unsigned long long)sim.acked, (unsigned long long)sim.refused,
	       (unsigned long long)sim.abandoned);
	printf("direct receipts: delivered=%llu lost=%llu\n",
	       (unsigned long long)sim.direct_delivered, (unsigned long long)sim.direct_lost);
	if (sim.faults & SIM_FAULT_SURVIVORS)
		printf("survivors: healings without the dead=%llu, configurations going on by "
		       "vouching=%llu\n", (unsigned long long)sim.survivor_heals,
		       (unsigned long long)sim.lifts);
	printf("seeds=%llu steps=%llu violations=%llu\n", (unsigned long long)seeds,
	       (unsigned long long)(seeds * steps), (unsigned long long)violations);
	qb_log_fini();
	return violations ? 1 : 0;
}
