# distutils: language = c++
# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
"""XLA's greedy CPU instruction fusion (`greedy.run_greedy` with `fusibility.cpu_should_fuse` and
`legal_to_fuse`) on integer arrays: the same algorithm, the same order of checks, in C++.

This is the one module with a second source: `greedy.py` and `fusibility.py` are the reference,
and `greedy_kernel.py` computes every per-instruction predicate with their functions (so each rule
about one instruction has one source). What is here is the part that changes while the loop runs:
the cluster graph (operands and users of each node), the clusters' reused operands and reduction
counts, the queue, and the order in which `cpu_should_fuse` and `legal_to_fuse` ask their
questions. `tests/passes/fusion/test_greedy_kernel.py` checks both give the same clusters.

Nodes 0..n-1 are the computation's instructions in order (the order is topological); clusters are
numbered from n on. Flags (one int per instruction) are the F_* bits of `greedy_kernel.py`.
"""

from libcpp.vector cimport vector
from libcpp.unordered_map cimport unordered_map
from libcpp.unordered_set cimport unordered_set
from libc.stdint cimport uint64_t
from libcpp.algorithm cimport sort
from libcpp.utility cimport pair

cdef enum:
    F_FUSIBLE = 1 << 0           # is_fusible
    F_LOOP_FUSIBLE = 1 << 1      # cpu_can_be_loop_fused
    F_ELEMENTWISE = 1 << 2
    F_EXPENSIVE = 1 << 3         # cpu_is_expensive
    F_LARGE_CONSTANT = 1 << 4    # a constant that is not an effective scalar
    F_CONSTANT = 1 << 5
    F_ADD = 1 << 6
    F_MV_DOT = 1 << 7            # is_matrix_vector_dot
    F_DOT = 1 << 8
    F_SMALL_DOT = 1 << 9         # a dot of rank <= 1 (cpu_dot_consumer's first case)
    F_BAD_CONCATENATE = 1 << 10  # a concatenate cpu_concatenate_ok refuses
    F_ALWAYS_DUPLICABLE = 1 << 12
    F_LOOP_FUSION = 1 << 13      # is_loop_fusion (a kLoop fusion instruction)
    F_FUSION = 1 << 14
    F_GATHER = 1 << 16
    F_REDUCE = 1 << 17
    F_DYNAMIC_UPDATE_SLICE = 1 << 18
    F_SCREENED = 1 << 19         # globally_unfusible looks at it (reads more than it writes, ...)

cdef int MAX_REDUCTIONS_IN_FUSION = 5
cdef int REACH_LIMIT = 4000
cdef int ALL_PATHS_DEPTH = 200

# decisions: 0 refuse, 1 refuse for good (XLA's loop never asks again), 2 allow
cdef enum:
    REFUSE = 0
    REFUSE_FINAL = 1
    ALLOW = 2


cdef inline uint64_t pair_key(int a, int b) nogil:
    return (<uint64_t><unsigned int>a << 32) | <uint64_t><unsigned int>b


cdef inline void remove_unique(vector[int]& nodes, int node) noexcept nogil:
    cdef size_t i
    for i in range(nodes.size()):
        if nodes[i] == node:
            nodes.erase(nodes.begin() + i)
            return


cdef inline void replace_unique(vector[int]& nodes, int old, int new) noexcept nogil:
    cdef size_t i
    for i in range(nodes.size()):
        if nodes[i] == old:
            nodes[i] = new
            return


cdef inline bint contains(const vector[int]& nodes, int node) nogil:
    cdef size_t i
    for i in range(nodes.size()):
        if nodes[i] == node:
            return True
    return False


cdef inline int count(const vector[int]& nodes, int node) nogil:
    cdef size_t i
    cdef int c = 0
    for i in range(nodes.size()):
        if nodes[i] == node:
            c += 1
    return c


cdef vector[int] unique(const vector[int]& nodes):
    cdef vector[int] out
    cdef size_t i
    for i in range(nodes.size()):
        if not contains(out, nodes[i]):
            out.push_back(nodes[i])
    return out


cdef class _Greedy:
    cdef int n
    cdef vector[int] flags, reduce_count, in_place_param, op_start, op_list, slot_flags
    cdef vector[vector[int]] ops, users
    cdef int root
    # clusters (index c - n)
    cdef vector[int] cl_root, cl_reductions
    cdef vector[vector[int]] cl_members
    cdef vector[unordered_set[int]] cl_reused
    cdef vector[int] cluster_of  # instruction -> its cluster (it is the cluster's root), or -1
    cdef unordered_map[uint64_t, char] reach_memo
    cdef unordered_map[uint64_t, char] paths_memo
    cdef vector[char] do_not_duplicate
    cdef vector[int] seen_at
    cdef int stamp

    def __init__(self, int n, flags, reduce_count, in_place_param, op_start, op_list, slot_flags,
                 user_start, user_list, int root):
        cdef int k, j
        self.n = n
        self.flags = flags
        self.reduce_count = reduce_count
        self.in_place_param = in_place_param
        self.op_start = op_start
        self.op_list = op_list
        self.slot_flags = slot_flags
        cdef vector[int] us = user_start
        cdef vector[int] ul = user_list
        self.ops.resize(n)
        self.users.resize(n)
        for k in range(n):
            for j in range(self.op_start[k], self.op_start[k + 1]):
                self.ops[k].push_back(self.op_list[j])
            for j in range(us[k], us[k + 1]):
                self.users[k].push_back(ul[j])
        self.root = root
        self.cluster_of.assign(n, -1)
        self.do_not_duplicate.assign(n, 0)
        self.seen_at.assign(n, 0)
        self.stamp = 0

    # -- node facts ----------------------------------------------------------------------------
    cdef inline bint is_cluster(self, int node) nogil:
        return node >= self.n

    cdef inline int fl(self, int node) nogil:
        # a cluster is a kLoop fusion: fusible, of its root's shape
        if node >= self.n:
            return F_FUSIBLE | F_FUSION | F_LOOP_FUSION
        return self.flags[node]

    cdef inline int slot_flag(self, int inst, int slot) nogil:
        return self.slot_flags[self.op_start[inst] + slot]

    cdef bint reuses_operand(self, int consumer, int producer):
        cdef size_t i
        if self.is_cluster(consumer):
            return self.cl_reused[consumer - self.n].count(producer) > 0
        if self.flags[consumer] & F_FUSION:
            return True
        for i in range(self.ops[consumer].size()):
            if self.ops[consumer][i] == producer and self.slot_flag(consumer, i) & 1:
                return True
        return False

    cdef int in_place_operand(self, int consumer):
        """-1: none."""
        cdef int src, c
        if self.is_cluster(consumer):
            c = consumer - self.n
            if not (self.flags[self.cl_root[c]] & F_DYNAMIC_UPDATE_SLICE):
                return -1
            src = self.op_list[self.op_start[self.cl_root[c]]]
            if contains(self.cl_members[c], src):
                return -1
            return self.cluster_of[src] if self.cluster_of[src] >= 0 else src
        if self.flags[consumer] & F_DYNAMIC_UPDATE_SLICE:
            return self.ops[consumer][0]
        if self.flags[consumer] & F_FUSION and self.in_place_param[consumer] >= 0:
            return self.op_list[self.op_start[consumer] + self.in_place_param[consumer]]
        return -1

    cdef int in_place_ok(self, int producer, int consumer):
        cdef int buffer = self.in_place_operand(consumer)
        if buffer < 0:
            return ALLOW
        if count(self.ops[consumer], buffer) > 1:
            return REFUSE
        if producer == buffer:
            return REFUSE
        if not (self.fl(producer) & F_ELEMENTWISE) and contains(self.ops[producer], buffer):
            return REFUSE
        return ALLOW

    cdef bint can_be_output_fused(self, int producer, int consumer):
        cdef int user
        if self.is_cluster(consumer) or not (self.flags[consumer] & F_ADD) \
                or self.is_cluster(producer) or not (self.flags[producer] & F_MV_DOT):
            return False
        if self.users[producer].size() != 1:
            return False
        user = self.users[producer][0]
        return count(self.ops[user], producer) == 1

    cdef int dot_consumer(self, int producer, int consumer):
        """-1: the consumer is not a dot; else a decision."""
        cdef size_t i
        cdef int index = -1
        if self.is_cluster(consumer) or not (self.flags[consumer] & F_DOT):
            return -1
        if self.flags[consumer] & F_SMALL_DOT:
            for i in range(self.ops[consumer].size()):
                if self.ops[consumer][i] == producer:
                    index = i
                    break
            # slot flags of a small dot: bit 1 (2) "operand 0 is a small vector", bit 2 (4) the
            # same for operand 1, both read off slot 0
            if self.slot_flag(consumer, 0) & 2 and index == 1:
                return ALLOW
            if self.slot_flag(consumer, 0) & 4 and index == 0:
                return ALLOW
        return REFUSE_FINAL

    cdef bint is_root(self, int node) nogil:
        return node == self.root

    cdef int reductions(self, int node):
        if self.is_cluster(node):
            return self.cl_reductions[node - self.n]
        return self.reduce_count[node]

    # -- fusibility.cpu_should_fuse -------------------------------------------------------------
    cdef int should_fuse(self, int producer, int consumer):
        cdef int pf = self.fl(producer), cf = self.fl(consumer)
        cdef size_t i
        cdef int d
        cdef bint duplicates
        if pf & F_LARGE_CONSTANT:
            return REFUSE_FINAL
        if not (pf & F_FUSIBLE) or not (cf & F_FUSIBLE):
            return REFUSE_FINAL
        if self.can_be_output_fused(producer, consumer):
            return self.in_place_ok(producer, consumer)
        if pf & F_ADD:
            for i in range(self.ops[producer].size()):
                if self.can_be_output_fused(self.ops[producer][i], producer):
                    return REFUSE
        if not (pf & F_LOOP_FUSIBLE):
            return REFUSE_FINAL
        if pf & F_BAD_CONCATENATE or cf & F_BAD_CONCATENATE:
            return REFUSE_FINAL
        if not (pf & F_FUSION) and pf & F_EXPENSIVE and self.reuses_operand(consumer, producer):
            return REFUSE_FINAL
        if self.is_root(producer):
            return REFUSE_FINAL
        # duplication_allowed (may_duplicate: only expensive producers are kept from duplicating)
        duplicates = False
        for i in range(self.users[producer].size()):
            if self.users[producer][i] != consumer:
                duplicates = True
                break
        if duplicates and pf & F_EXPENSIVE and not (pf & F_ALWAYS_DUPLICABLE):
            return REFUSE
        d = self.in_place_ok(producer, consumer)
        if d != ALLOW:
            return d
        if pf & F_REDUCE and cf & F_FUSION and self.reductions(consumer) > MAX_REDUCTIONS_IN_FUSION:
            return REFUSE_FINAL
        if pf & F_CONSTANT and not (cf & F_FUSION):
            return REFUSE_FINAL
        if pf & F_FUSION:
            return REFUSE_FINAL
        d = self.dot_consumer(producer, consumer)
        if d >= 0:
            return d
        if cf & F_LOOP_FUSION or cf & F_LOOP_FUSIBLE:
            return ALLOW
        return REFUSE_FINAL

    # -- fusibility.legal_to_fuse ---------------------------------------------------------------
    cdef bint legal(self, int producer, int consumer):
        cdef int pf = self.fl(producer), cf = self.fl(consumer)
        cdef int d
        if not (pf & F_FUSIBLE) or not (cf & F_FUSIBLE):
            return False
        if pf & F_FUSION:
            return False
        if not (pf & F_LOOP_FUSIBLE or pf & F_MV_DOT and self.can_be_output_fused(producer, consumer)):
            return False
        if pf & F_LARGE_CONSTANT:
            return False
        if pf & F_GATHER or cf & F_GATHER:
            return False
        d = self.dot_consumer(producer, consumer)
        if d >= 0 and d != ALLOW:
            return False
        if d < 0 and not (cf & F_LOOP_FUSION or cf & F_LOOP_FUSIBLE):
            return False
        return self.in_place_ok(producer, consumer) == ALLOW

    # -- greedy.globally_unfusible ---------------------------------------------------------------
    cdef bint reach(self, int a, int b):
        """Is `a` an ancestor of (or equal to) `b` in the original graph? (positions are indices)"""
        cdef uint64_t key
        cdef vector[int] stack
        cdef int inst, j, op, seen = 0
        cdef bint found = False
        if a == b:
            return True
        if b < a:
            return False
        key = pair_key(a, b)
        if self.reach_memo.count(key):
            return self.reach_memo[key]
        self.stamp += 1  # (visited in this search: seen_at[node] == stamp)
        stack.push_back(b)
        while not stack.empty():
            inst = stack.back()
            stack.pop_back()
            if inst == a:
                found = True
                break
            if self.seen_at[inst] == self.stamp:
                continue
            self.seen_at[inst] = self.stamp
            seen += 1
            if seen > REACH_LIMIT:
                found = True
                break
            for j in range(self.op_start[inst], self.op_start[inst + 1]):
                op = self.op_list[j]
                if op >= a:
                    stack.push_back(op)
        self.reach_memo[key] = found
        return found

    cdef bint all_paths(self, int producer, int consumer, int depth):
        cdef uint64_t key
        cdef int j, op
        cdef bint result = True
        if consumer == producer:
            return True
        if depth > ALL_PATHS_DEPTH or not (self.flags[consumer] & F_FUSIBLE):
            return False
        key = pair_key(producer, consumer)
        if self.paths_memo.count(key):
            return self.paths_memo[key]
        for j in range(self.op_start[consumer], self.op_start[consumer + 1]):
            op = self.op_list[j]
            if not self.reach(producer, op):
                continue
            if self.do_not_duplicate[op] or self.should_fuse(op, consumer) != ALLOW \
                    or not self.legal(op, consumer):
                result = False
                break
            if not self.all_paths(producer, op, depth + 1):
                result = False
                break
        self.paths_memo[key] = result
        return result

    cdef void globally_unfusible(self):
        cdef int producer, j
        cdef bint ok
        for producer in range(self.n - 1, -1, -1):
            if not (self.flags[producer] & F_SCREENED):
                continue
            if self.flags[producer] & F_FUSIBLE:
                ok = True
                for j in range(<int>self.users[producer].size()):
                    if not self.all_paths(producer, self.users[producer][j], 0):
                        ok = False
                        break
                if ok:
                    continue
            self.do_not_duplicate[producer] = 1

    # -- fuse.ClusterGraph.fuse ------------------------------------------------------------------
    cdef int fuse(self, int producer, int consumer):
        cdef int cluster, c, o, i
        cdef size_t k
        cdef vector[int] p_ops, new_ops
        cdef unordered_set[int] reused
        if self.is_cluster(consumer):
            cluster = consumer
            c = cluster - self.n
        else:
            for k in range(self.ops[consumer].size()):
                if self.slot_flag(consumer, k) & 1:
                    reused.insert(self.ops[consumer][k])
            cluster = self.n + <int>self.cl_root.size()
            c = cluster - self.n
            self.cl_root.push_back(consumer)
            self.cl_members.push_back(vector[int]())
            self.cl_members[c].push_back(consumer)
            self.cl_reused.push_back(reused)
            self.cl_reductions.push_back(self.reduce_count[consumer])
            self.ops.push_back(unique(self.ops[consumer]))
            self.users.push_back(self.users[consumer])
            for k in range(self.ops[cluster].size()):
                replace_unique(self.users[self.ops[cluster][k]], consumer, cluster)
            for k in range(self.users[cluster].size()):
                o = self.users[cluster][k]
                for i in range(<int>self.ops[o].size()):
                    if self.ops[o][i] == consumer:
                        self.ops[o][i] = cluster
            if self.root == consumer:
                self.root = cluster
            self.cluster_of[consumer] = cluster
        p_ops = self.ops[producer]
        if self.cl_reused[c].count(producer):
            self.cl_reused[c].erase(producer)
            for k in range(p_ops.size()):
                self.cl_reused[c].insert(p_ops[k])
        else:
            for k in range(p_ops.size()):
                if self.slot_flag(producer, k) & 1:
                    self.cl_reused[c].insert(p_ops[k])
        self.cl_members[c].push_back(producer)
        self.cl_reductions[c] += self.reduce_count[producer]
        remove_unique(self.ops[cluster], producer)
        p_ops = unique(p_ops)
        for k in range(p_ops.size()):
            o = p_ops[k]
            if not contains(self.ops[cluster], o):
                self.ops[cluster].push_back(o)
            if not contains(self.users[o], cluster):
                self.users[o].push_back(cluster)
        remove_unique(self.users[producer], cluster)
        if self.users[producer].empty() and not self.is_root(producer):
            for k in range(p_ops.size()):
                remove_unique(self.users[p_ops[k]], producer)
        return cluster

    cdef bint is_dead(self, int node):
        return self.users[node].empty() and not self.is_root(node)

    # -- greedy.run_greedy -----------------------------------------------------------------------
    cdef bytes legal_slots(self):
        """For every operand slot (op_list's order): `legal_to_fuse(operand, instruction)` on the
        unfused graph (what dry mode offers). Slots of unfusible instructions are 0."""
        cdef bytearray out = bytearray(self.op_list.size())
        cdef int k, j
        for k in range(self.n):
            if not (self.flags[k] & F_FUSIBLE):
                continue
            for j in range(self.op_start[k], self.op_start[k + 1]):
                out[j] = self.legal(self.op_list[j], k)
        return bytes(out)

    def run(self):
        """Fuse. Returns ([(root, members in fusion order), ...] in the order clusters were made,
        `legal_slots()` of the unfused graph)."""
        cdef vector[int] queue, qpos, order, ops
        cdef unordered_set[uint64_t] refused
        cdef int node, producer, fusion, k, d, q
        cdef size_t i, j
        cdef bytes legal = self.legal_slots()
        self.globally_unfusible()
        for k in range(self.n):
            queue.push_back(k)
            qpos.push_back(k)
        while not queue.empty():
            node = queue.back()
            queue.pop_back()
            if node < 0:
                continue
            if <size_t>node >= qpos.size():
                qpos.resize(node + 1, -1)
            qpos[node] = -1
            if not (self.fl(node) & F_FUSIBLE):
                continue
            ops = self.ops[node]
            order = self.latest_first(ops, qpos)
            for j in range(order.size()):
                producer = ops[order[j]]
                if self.is_cluster(producer) or not (self.flags[producer] & F_FUSIBLE) \
                        or self.do_not_duplicate[producer]:
                    continue
                if refused.count(pair_key(producer, node)):
                    continue
                d = self.should_fuse(producer, node)
                if d != ALLOW:
                    if d == REFUSE_FINAL:
                        refused.insert(pair_key(producer, node))
                    continue
                if not self.legal(producer, node):
                    continue
                fusion = self.fuse(producer, node)
                if <size_t>fusion >= qpos.size():
                    qpos.resize(fusion + 1, -1)
                qpos[fusion] = <int>queue.size()
                queue.push_back(fusion)
                if self.is_dead(producer):
                    q = qpos[producer]
                    if q >= 0:
                        queue[q] = -1
                        qpos[producer] = -1
                    self.do_not_duplicate[producer] = 0
                if fusion != node and not self.is_cluster(node):
                    self.do_not_duplicate[node] = 0
                break
        return [(self.cl_root[c], list(self.cl_members[c])) for c in range(<int>self.cl_root.size())], legal

    cdef vector[int] latest_first(self, const vector[int]& ops, const vector[int]& qpos):
        """Indices of the operands still queued, latest queued first (ties: operand order)."""
        cdef vector[pair[int, int]] ranked
        cdef vector[int] out
        cdef size_t i
        for i in range(ops.size()):
            if <size_t>ops[i] < qpos.size() and qpos[ops[i]] >= 0:
                ranked.push_back(pair[int, int](-qpos[ops[i]], <int>i))
        sort(ranked.begin(), ranked.end())
        for i in range(ranked.size()):
            out.push_back(ranked[i].second)
        return out


def run_greedy(int n, flags, reduce_count, in_place_param, op_start, op_list, slot_flags,
               user_start, user_list, int root):
    """The clusters XLA's CPU greedy fusion makes, [(root index, member indices in fusion order)],
    and which operand slots are legal to fuse in the unfused graph (one byte per slot)."""
    return _Greedy(n, flags, reduce_count, in_place_param, op_start, op_list, slot_flags,
                   user_start, user_list, root).run()
