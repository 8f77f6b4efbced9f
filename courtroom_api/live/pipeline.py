"""The live audio pipeline of one hearing (capture → recorder → transcriber → attribution → hub)."""

from __future__ import annotations

from courtroom_api.errors import ConflictError
from courtroom_api.schemas import HearingStart
from courtroom_api.services import Services


class HearingPipeline:
    def __init__(self, services: Services, hearing_id: int, plan: HearingStart) -> None:
        self.services, self.hearing_id, self.plan = services, hearing_id, plan

    async def start(self, *, resumed: bool = False) -> None:
        raise ConflictError("the live audio pipeline is not available in this build (capture not installed)")

    async def stop(self, *, finalize: bool) -> None:
        return None
