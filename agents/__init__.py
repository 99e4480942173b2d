"""Agents: the protocol, baselines, greedy, search and the GNN policy. See `get_agent`."""

from hloenv.agents.base import AGENTS, Agent, EpisodeResult, action_length, get_agent, register_agent, run_episode

__all__ = ["AGENTS", "Agent", "EpisodeResult", "action_length", "get_agent", "register_agent", "run_episode"]
