# throwaway_root.sh - a throwaway root made of this machine's own system
# (sourced).  The host's / is the lower layer of an overlay whose upper layer
# is a scratch directory: inside, packages install, users are created,
# PostgreSQL runs, and every write lands in the scratch directory, never on
# the host.  It runs in its own mount and PID namespaces (everything it
# started dies with it), with private /run, /tmp and /proc.  Needs root
# (mount, chroot) and overlayfs.
#
#   throwaway_root DIR SCRIPT [HOSTDIR:ROOTDIR ...] [-- ARG ...]
#       runs SCRIPT (a bash script file) with the ARGs as root inside a root
#       made under DIR, with each HOSTDIR bound at ROOTDIR; its exit status.
#       THROWAWAY_KEEP=DIR: a host directory under /tmp or /run (which the
#       root replaces with its own) shown at the same path all the same,
#       through an overlay of its own, so writes inside still never reach
#       the host (a checkout under /tmp: the guide runs in the tree).

throwaway_root() {
	local dir=$1 script=$2
	shift 2
	mkdir -p "$dir/up" "$dir/work" "$dir/root"
	unshare --mount --pid --fork --propagation private bash -c '
		set -e
		dir=$1 script=$2
		shift 2
		mount -t overlay overlay -o "lowerdir=/,upperdir=$dir/up,workdir=$dir/work" "$dir/root"
		mount --rbind /dev "$dir/root/dev"
		mount -t proc proc "$dir/root/proc"
		mount -t sysfs sysfs "$dir/root/sys"
		mount -t tmpfs -o mode=0755 tmpfs "$dir/root/run"
		mount -t tmpfs -o mode=1777 tmpfs "$dir/root/tmp"
		if [ -n "${THROWAWAY_KEEP:-}" ]; then
			mkdir -p "$dir/keep-up" "$dir/keep-work" "$dir/root$THROWAWAY_KEEP"
			mount -t overlay overlay -o "lowerdir=$THROWAWAY_KEEP,upperdir=$dir/keep-up,workdir=$dir/keep-work" \
				"$dir/root$THROWAWAY_KEEP"
		fi
		while [ $# -gt 0 ] && [ "$1" != -- ]; do
			mkdir -p "$dir/root/${1#*:}"
			mount --bind "${1%%:*}" "$dir/root/${1#*:}"
			shift
		done
		[ $# -gt 0 ] && shift
		cp "$script" "$dir/root/run/script.sh"
		# A clean environment, as a fresh login has: nothing of the test run.
		exec env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			chroot "$dir/root" /bin/bash /run/script.sh "$@"
	' _ "$dir" "$script" "$@"
}
