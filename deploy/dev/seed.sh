#!/bin/sh
# Prepares the development stack (docker-compose.dev.yml, service "seed", run as root in the
# glacis dev image): the repo directories of ./repos.yaml, the local backend's cold copy, and
# the S3 bucket with the sample data. Safe to run again: nothing existing is overwritten.
set -eu

sample=/etc/glacis/sample-data
# The image's glacis user, which runs the API and the worker.
owner=10001:10001

mkdir -p /data/lab1 /data/lab2 /data/lab3 /data/cold
if [ ! -d /data/cold/lab3 ]; then
  cp -a "$sample" /data/cold/lab3
fi
chown "$owner" /data/lab1 /data/lab2 /data/lab3

# rclone takes the S3 server from the environment: no config file, no secret on a command
# line. Development credentials, as in docker-compose.dev.yml and ./repos.yaml.
export RCLONE_CONFIG=/dev/null
export RCLONE_CONFIG_DEVS3_TYPE=s3
export RCLONE_CONFIG_DEVS3_PROVIDER=Minio
export RCLONE_CONFIG_DEVS3_ENDPOINT=http://s3:9000
export RCLONE_CONFIG_DEVS3_ACCESS_KEY_ID=glacis
export RCLONE_CONFIG_DEVS3_SECRET_ACCESS_KEY=glacis-dev-secret
export RCLONE_CONFIG_DEVS3_REGION=us-east-1
rclone mkdir devs3:lab2
# --ignore-existing: a file the developer changed on the remote stays as it is.
rclone copy --ignore-existing "$sample" devs3:lab2/archive
echo "dev stack seeded: /data/lab1, /data/lab2, /data/lab3 ready; sample data on every remote"
