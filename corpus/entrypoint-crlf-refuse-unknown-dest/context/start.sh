#!/bin/sh
exec "$@"
