"""The opposition register: intake, identity matching, answers, the register as data, exports."""
