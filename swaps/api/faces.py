"""The face routes: POST /detect, and saved faces (create, list, get, delete)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import RateLimitedMixin
from accounts.idempotency import idempotent
from swaps import faces
from swaps.api.fields import ImageValueField
from swaps.api.schema import IDEMPOTENCY_KEY, error_responses
from swaps.api.views import UUID_PATTERN
from swaps.models import SavedFace


class ImageSerializer(serializers.Serializer):
    image = ImageValueField(help_text="A file, an http(s) URL, a data: URI or base64.")


class DetectedFaceSerializer(serializers.Serializer):
    index = serializers.IntegerField(help_text="0 = the largest face.")
    box = serializers.ListField(
        child=serializers.IntegerField(),
        min_length=4,
        max_length=4,
        help_text="[x, y, w, h] in pixels of the upright image.",
    )
    score = serializers.FloatField(help_text="Detector confidence; higher is surer.")


class DetectionSerializer(serializers.Serializer):
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    faces = DetectedFaceSerializer(many=True)


class SavedFaceCreateSerializer(ImageSerializer):
    name = serializers.CharField(max_length=100, help_text="Your label for this face.")
    image = ImageValueField(help_text="A photo showing exactly one face.")


class SavedFaceSerializer(serializers.ModelSerializer):
    class Meta:
        model = SavedFace
        fields = ["id", "name", "created_at"]
        read_only_fields = fields


class DetectView(RateLimitedMixin, APIView):
    """Faces of a photo, for clients choosing face indices. Synchronous, no credits."""

    @extend_schema(
        summary="Detect faces (largest first)",
        request={"multipart/form-data": ImageSerializer, "application/json": ImageSerializer},
        responses={200: DetectionSerializer, **error_responses(400, 401, 413, 429)},
    )
    def post(self, request: Request) -> Response:
        form = ImageSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        found = faces.detect_faces_in(image=form.validated_data["image"])
        return Response(DetectionSerializer(found).data)


@extend_schema_view(
    list=extend_schema(
        summary="List your saved faces, newest first",
        responses={200: SavedFaceSerializer(many=True), **error_responses(400, 401, 429)},
    ),
    retrieve=extend_schema(
        summary="A saved face",
        responses={200: SavedFaceSerializer, **error_responses(401, 404, 429)},
    ),
    destroy=extend_schema(
        summary="Delete a saved face and erase its data",
        responses={204: None, **error_responses(401, 404, 429)},
    ),
)
class SavedFaceViewSet(
    RateLimitedMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """Saved faces: use one as `source_face_id` to swap without a source photo."""

    serializer_class = SavedFaceSerializer
    lookup_value_regex = UUID_PATTERN

    def get_queryset(self) -> QuerySet[SavedFace]:
        return SavedFace.objects.owned_by(self.request.auth.account).defer("identity")

    @extend_schema(
        summary="Save a face (the photo must show exactly one)",
        request={
            "multipart/form-data": SavedFaceCreateSerializer,
            "application/json": SavedFaceCreateSerializer,
        },
        parameters=[IDEMPOTENCY_KEY],
        responses={201: SavedFaceSerializer, **error_responses(400, 401, 409, 413, 422, 429)},
    )
    def create(self, request: Request) -> Response:
        return idempotent(
            request,
            account=request.auth.account,
            handler=lambda: self._create(request),
            replay=lambda ids: self._created(self.get_queryset().get(pk=ids[0])),
        )

    def _create(self, request: Request) -> Response:
        form = SavedFaceCreateSerializer(data=request.data)
        form.is_valid(raise_exception=True)
        face = faces.create_saved_face(
            account=request.auth.account,
            name=form.validated_data["name"],
            image=form.validated_data["image"],
        )
        return self._created(face)

    def _created(self, face: SavedFace) -> Response:
        location = reverse("api:face-detail", args=[face.pk])
        return Response(
            self.get_serializer(face).data,
            status=status.HTTP_201_CREATED,
            headers={"Location": location},
        )

    def perform_destroy(self, instance: SavedFace) -> None:
        faces.delete_saved_face(face=instance)
