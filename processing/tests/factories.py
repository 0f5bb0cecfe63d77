from __future__ import annotations

from datetime import date

import factory

from processing.models import Batch, Job
from projects.tests.factories import PhotoFactory, ProjectFactory


class BatchFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Batch

    project = factory.SubFactory(ProjectFactory)
    preset_name = "Natural"
    created_by = factory.SelfAttribute("project.owner")


class JobFactory(factory.django.DjangoModelFactory):
    """A job's row as the runner leaves it (no quota reserved: for reads)."""

    class Meta:
        model = Job

    batch = factory.SubFactory(BatchFactory)
    project = factory.SelfAttribute("batch.project")
    photo = factory.SubFactory(PhotoFactory, project=factory.SelfAttribute("..project"))
    preset_name = "Natural"
    operations = factory.LazyFunction(list)
    status = Job.Status.QUEUED
    quota_subject = factory.LazyAttribute(lambda job: f"user:{job.project.owner_id}")
    quota_period = factory.LazyFunction(date.today)
    created_by = factory.SelfAttribute("project.owner")
