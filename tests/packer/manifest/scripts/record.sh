#!/bin/sh
# What a base bake records about itself (a stand-in for a hardening script).
echo "baseline: cis-level-1"
