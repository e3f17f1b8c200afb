"""The server's side of the training process: one job at a time and its queue (queue.py), the child
process and its watchdog (process.py), what the two say to each other (protocol.py) and who may
ask for what (access.py). Nothing here imports TensorFlow: the child does."""

from mnist_core.jobs.process import CANCELLED, FAILED, FINETUNE, IMPORT, QUEUED, RUNNING, SAVED, SAVING, TRAINING, Job
from mnist_core.jobs.queue import (JobBusyError, cancel, current_job, place_in_queue, submit_finetune, submit_import,
                                   submit_training, training_unavailable, waiting_jobs)

__all__ = ["CANCELLED", "FAILED", "FINETUNE", "IMPORT", "QUEUED", "RUNNING", "SAVED", "SAVING", "TRAINING", "Job",
           "JobBusyError", "cancel", "current_job", "place_in_queue", "submit_finetune", "submit_import",
           "submit_training", "training_unavailable", "waiting_jobs"]
