from celery import shared_task

from gateway.services import api_requests_purge


@shared_task
def purge_api_requests() -> int:
    return api_requests_purge()
