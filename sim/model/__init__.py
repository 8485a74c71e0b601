"""The simulation model: compiled network, flow solver, SimPy engine and stochastic processes."""
