"""Jellyfin's own table definitions, for building test and benchmark databases (see
:mod:`yaffw.jellyfin.sample`). Read from jellyfin/jellyfin at the tags named below.

- ``library.db`` (10.8–10.10): the statements ``SqliteItemRepository.Initialize`` and
  ``SqliteUserDataRepository.Initialize`` run (v10.10.7), including the ``AddColumn`` calls that
  grow ``TypedBaseItems`` (``alter table ... add column X T NULL``, skipped when present).
- ``jellyfin.db``: the EF Core model (``JellyfinDbModelSnapshot.cs``) of v10.10.7 and v10.11.0 for the
  tables the migration reads, written the way EF Core's SQLite provider writes DDL.
"""

from __future__ import annotations

# --- library.db, v10.10.7 Emby.Server.Implementations/Data/SqliteItemRepository.cs -----------------

LIBRARY_DB_CREATE = (
    "create table if not exists TypedBaseItems (guid GUID primary key NOT NULL, type TEXT NOT NULL, data BLOB NULL, "
    "ParentId GUID NULL, Path TEXT NULL)",
    "create table if not exists AncestorIds (ItemId GUID NOT NULL, AncestorId GUID NOT NULL, AncestorIdText TEXT NOT "
    "NULL, PRIMARY KEY (ItemId, AncestorId))",
    "create index if not exists idx_AncestorIds1 on AncestorIds(AncestorId)",
    "create index if not exists idx_AncestorIds5 on AncestorIds(AncestorIdText,ItemId)",
    "create table if not exists ItemValues (ItemId GUID NOT NULL, Type INT NOT NULL, Value TEXT NOT NULL, CleanValue "
    "TEXT NOT NULL)",
    "create table if not exists People (ItemId GUID, Name TEXT NOT NULL, Role TEXT, PersonType TEXT, SortOrder int, "
    "ListOrder int)",
    "create table if not exists Chapters2 (ItemId GUID, ChapterIndex INT NOT NULL, StartPositionTicks BIGINT NOT NULL, "
    "Name TEXT, ImagePath TEXT, PRIMARY KEY (ItemId, ChapterIndex))",
    "create table if not exists mediastreams (ItemId GUID, StreamIndex INT, StreamType TEXT, Codec TEXT, Language "
    "TEXT, ChannelLayout TEXT, Profile TEXT, AspectRatio TEXT, Path TEXT, IsInterlaced BIT, BitRate INT NULL, Channels "
    "INT NULL, SampleRate INT NULL, IsDefault BIT, IsForced BIT, IsExternal BIT, Height INT NULL, Width INT NULL, "
    "AverageFrameRate FLOAT NULL, RealFrameRate FLOAT NULL, Level FLOAT NULL, PixelFormat TEXT, BitDepth INT NULL, "
    "IsAnamorphic BIT NULL, RefFrames INT NULL, CodecTag TEXT NULL, Comment TEXT NULL, NalLengthSize TEXT NULL, IsAvc "
    "BIT NULL, Title TEXT NULL, TimeBase TEXT NULL, CodecTimeBase TEXT NULL, ColorPrimaries TEXT NULL, ColorSpace TEXT "
    "NULL, ColorTransfer TEXT NULL, DvVersionMajor INT NULL, DvVersionMinor INT NULL, DvProfile INT NULL, DvLevel INT "
    "NULL, RpuPresentFlag INT NULL, ElPresentFlag INT NULL, BlPresentFlag INT NULL, DvBlSignalCompatibilityId INT "
    "NULL, IsHearingImpaired BIT NULL, Rotation INT NULL, PRIMARY KEY (ItemId, StreamIndex))",
    "create table if not exists mediaattachments (ItemId GUID, AttachmentIndex INT, Codec TEXT, CodecTag TEXT NULL, "
    "Comment TEXT NULL, Filename TEXT NULL, MIMEType TEXT NULL, PRIMARY KEY (ItemId, AttachmentIndex))",
    # SqliteUserDataRepository.Initialize
    "create table if not exists UserDatas (key nvarchar not null, userId INT not null, rating float null, played bit "
    "not null, playCount int not null, isFavorite bit not null, playbackPositionTicks bigint not null, lastPlayedDate "
    "datetime null, AudioStreamIndex INT, SubtitleStreamIndex INT)",
    "create unique index if not exists UserDatasIndex1 on UserDatas (key, userId)",
    "create index if not exists UserDatasIndex2 on UserDatas (key, userId, played)",
    "create index if not exists UserDatasIndex3 on UserDatas (key, userId, playbackPositionTicks)",
    "create index if not exists UserDatasIndex4 on UserDatas (key, userId, isFavorite)",
    "create index if not exists UserDatasIndex5 on UserDatas (key, userId, lastPlayedDate)",
)

# AddColumn(connection, "TypedBaseItems", name, type, ...) in Initialize's order.
TYPED_BASE_ITEMS_COLUMNS = (  # noqa: SIM905 (one string reads closer to Jellyfin's source than 74 items)
    "Path Text,StartDate DATETIME,EndDate DATETIME,ChannelId Text,IsMovie BIT,CommunityRating Float,CustomRating Text,"
    "IndexNumber INT,IsLocked BIT,Name Text,OfficialRating Text,MediaType Text,Overview Text,ParentIndexNumber INT,"
    "PremiereDate DATETIME,ProductionYear INT,ParentId GUID,Genres Text,SortName Text,ForcedSortName Text,"
    "RunTimeTicks BIGINT,DateCreated DATETIME,DateModified DATETIME,IsSeries BIT,EpisodeTitle Text,IsRepeat BIT,"
    "PreferredMetadataLanguage Text,PreferredMetadataCountryCode Text,DateLastRefreshed DATETIME,DateLastSaved "
    "DATETIME,IsInMixedFolder BIT,LockedFields Text,Studios Text,Audio Text,ExternalServiceId Text,Tags Text,IsFolder "
    "BIT,InheritedParentalRatingValue INT,UnratedType Text,TopParentId Text,TrailerTypes Text,CriticRating Float,"
    "CleanName Text,PresentationUniqueKey Text,OriginalTitle Text,PrimaryVersionId Text,DateLastMediaAdded DATETIME,"
    "Album Text,LUFS Float,NormalizationGain Float,IsVirtualItem BIT,SeriesName Text,UserDataKey Text,SeasonName Text,"
    "SeasonId GUID,SeriesId GUID,ExternalSeriesId Text,Tagline Text,ProviderIds Text,Images Text,ProductionLocations "
    "Text,ExtraIds Text,TotalBitrate INT,ExtraType Text,Artists Text,AlbumArtists Text,ExternalId Text,"
    "SeriesPresentationUniqueKey Text,ShowId Text,OwnerId Text,Width INT,Height INT,Size BIGINT"
).split(",")

LIBRARY_DB_INDEXES = (
    "create index if not exists idx_PathTypedBaseItems on TypedBaseItems(Path)",
    "create index if not exists idx_ParentIdTypedBaseItems on TypedBaseItems(ParentId)",
    "create index if not exists idx_PresentationUniqueKey on TypedBaseItems(PresentationUniqueKey)",
    "create index if not exists idx_GuidTypeIsFolderIsVirtualItem on TypedBaseItems(Guid,Type,IsFolder,IsVirtualItem)",
    "create index if not exists idx_TopParentIdGuid on TypedBaseItems(TopParentId,Guid)",
    "CREATE INDEX IF NOT EXISTS idx_TypedBaseItemsUserDataKeyType ON TypedBaseItems(UserDataKey, Type)",
)


def library_db_statements() -> list[str]:
    """Every statement that makes a 10.10 ``library.db``, in Jellyfin's order."""
    out = list(LIBRARY_DB_CREATE)
    existing = {"guid", "type", "data", "parentid", "path"}
    for spec in TYPED_BASE_ITEMS_COLUMNS:
        name, kind = spec.split()
        if name.lower() not in existing:  # BaseSqliteRepository.AddColumn
            existing.add(name.lower())
            out.append(f"alter table TypedBaseItems add column {name} {kind} NULL")
    out.extend(LIBRARY_DB_INDEXES)
    return out


# --- jellyfin.db, EF Core (Jellyfin.Server.Implementations/Migrations, v10.10.7) -------------------

EF_HISTORY = """CREATE TABLE "__EFMigrationsHistory" (
    "MigrationId" TEXT NOT NULL CONSTRAINT "PK___EFMigrationsHistory" PRIMARY KEY,
    "ProductVersion" TEXT NOT NULL
)"""

_USERS = """CREATE TABLE "Users" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_Users" PRIMARY KEY,
    "Username" TEXT NOT NULL COLLATE NOCASE,
    "Password" TEXT NULL,
    "MustUpdatePassword" INTEGER NOT NULL,
    "AudioLanguagePreference" TEXT NULL,
    "AuthenticationProviderId" TEXT NOT NULL,
    "PasswordResetProviderId" TEXT NOT NULL,
    "InvalidLoginAttemptCount" INTEGER NOT NULL,
    "LastActivityDate" TEXT NULL,
    "LastLoginDate" TEXT NULL,
    "LoginAttemptsBeforeLockout" INTEGER NULL,
    "SubtitleMode" INTEGER NOT NULL,
    "PlayDefaultAudioTrack" INTEGER NOT NULL,
    "SubtitleLanguagePreference" TEXT NULL,
    "DisplayMissingEpisodes" INTEGER NOT NULL,
    "DisplayCollectionsView" INTEGER NOT NULL,
    "EnableLocalPassword" INTEGER NOT NULL,
    "HidePlayedInLatest" INTEGER NOT NULL,
    "RememberAudioSelections" INTEGER NOT NULL,
    "RememberSubtitleSelections" INTEGER NOT NULL,
    "EnableNextEpisodeAutoPlay" INTEGER NOT NULL,
    "EnableAutoLogin" INTEGER NOT NULL,
    "EnableUserPreferenceAccess" INTEGER NOT NULL,
    {parental}
    "RemoteClientBitrateLimit" INTEGER NULL,
    "InternalId" INTEGER NOT NULL,
    "SyncPlayAccess" INTEGER NOT NULL,
    "RowVersion" INTEGER NOT NULL,
    "MaxActiveSessions" INTEGER NOT NULL,
    "CastReceiverId" TEXT NULL
)"""
_PARENTAL_10_10 = '"MaxParentalAgeRating" INTEGER NULL,'
_PARENTAL_10_11 = '"MaxParentalRatingScore" INTEGER NULL,\n    "MaxParentalRatingSubScore" INTEGER NULL,'

# Permission/Preference: the owner column was Permission_Permissions_Guid until 10.7
# (AddIndexesAndCollations copied it into UserId, which is the one in use since).
PERMISSIONS = """CREATE TABLE "Permissions" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_Permissions" PRIMARY KEY AUTOINCREMENT,
    "Kind" INTEGER NOT NULL,
    "Value" INTEGER NOT NULL,
    "RowVersion" INTEGER NOT NULL,
    "Permission_Permissions_Guid" TEXT NULL,
    "UserId" TEXT NULL,
    CONSTRAINT "FK_Permissions_Users_UserId" FOREIGN KEY ("UserId") REFERENCES "Users" ("Id") ON DELETE CASCADE
)"""
PREFERENCES = """CREATE TABLE "Preferences" (
    "Id" INTEGER NOT NULL CONSTRAINT "PK_Preferences" PRIMARY KEY AUTOINCREMENT,
    "Kind" INTEGER NOT NULL,
    "Value" TEXT NOT NULL,
    "RowVersion" INTEGER NOT NULL,
    "Preference_Preferences_Guid" TEXT NULL,
    "UserId" TEXT NULL,
    CONSTRAINT "FK_Preferences_Users_UserId" FOREIGN KEY ("UserId") REFERENCES "Users" ("Id") ON DELETE CASCADE
)"""
USER_INDEXES = (
    'CREATE UNIQUE INDEX "IX_Users_Username" ON "Users" ("Username")',
    'CREATE UNIQUE INDEX "IX_Permissions_UserId_Kind" ON "Permissions" ("UserId", "Kind") WHERE [UserId] IS NOT NULL',
    'CREATE UNIQUE INDEX "IX_Preferences_UserId_Kind" ON "Preferences" ("UserId", "Kind") WHERE [UserId] IS NOT NULL',
)

# __EFMigrationsHistory rows: what a 10.10 and a 10.11 server have applied (the newest of each
# release is what yaffw.jellyfin.detect looks at).
MIGRATIONS_10_10 = (
    "20200514181226_AddActivityLog", "20200613202153_AddUsers", "20200728005145_AddDisplayPreferences",
    "20200905220533_FixDisplayPreferencesIndex", "20201004171403_AddMaxActiveSessions",
    "20201204223655_AddCustomDisplayPreferences", "20210320181425_AddIndexesAndCollations",
    "20210407110544_NullableCustomPrefValue", "20210814002109_AddDevices",
    "20221022080052_AddIndexActivityLogsDateCreated", "20230526173516_RemoveEasyPassword",
    "20230626233818_AddTrickplayInfos", "20230923170422_UserCastReceiver", "20240729140605_AddMediaSegments",
    "20240928082930_MarkSegmentProviderIdNonNullable",
)  # fmt: skip
MIGRATIONS_10_11 = (
    *MIGRATIONS_10_10,
    "20241020103111_LibraryDbMigration", "20241111131257_AddedCustomDataKey", "20241111135439_AddedCustomDataKeyKey",
    "20241112152323_FixAncestorIdConfig", "20250202021306_FixedCollation",
    "20250609115616_DetachUserDataInsteadOfDelete",
    "20250913211637_AddProperParentChildRelationBaseItemWithCascade", "20250925203415_ExtendPeopleMapKey",
)  # fmt: skip

# --- jellyfin.db 10.11 (src/Jellyfin.Database/Jellyfin.Database.Providers.Sqlite/Migrations, v10.11.0) --

BASE_ITEMS = """CREATE TABLE "BaseItems" (
    "Id" TEXT NOT NULL CONSTRAINT "PK_BaseItems" PRIMARY KEY,
    "Type" TEXT NOT NULL,
    "Data" TEXT NULL,
    "Path" TEXT NULL,
    "StartDate" TEXT NULL,
    "EndDate" TEXT NULL,
    "ChannelId" TEXT NULL,
    "IsMovie" INTEGER NOT NULL,
    "CommunityRating" REAL NULL,
    "CustomRating" TEXT NULL,
    "IndexNumber" INTEGER NULL,
    "IsLocked" INTEGER NOT NULL,
    "Name" TEXT NULL,
    "OfficialRating" TEXT NULL,
    "MediaType" TEXT NULL,
    "Overview" TEXT NULL,
    "ParentIndexNumber" INTEGER NULL,
    "PremiereDate" TEXT NULL,
    "ProductionYear" INTEGER NULL,
    "Genres" TEXT NULL,
    "SortName" TEXT NULL,
    "ForcedSortName" TEXT NULL,
    "RunTimeTicks" INTEGER NULL,
    "DateCreated" TEXT NULL,
    "DateModified" TEXT NULL,
    "IsSeries" INTEGER NOT NULL,
    "EpisodeTitle" TEXT NULL,
    "IsRepeat" INTEGER NOT NULL,
    "PreferredMetadataLanguage" TEXT NULL,
    "PreferredMetadataCountryCode" TEXT NULL,
    "DateLastRefreshed" TEXT NULL,
    "DateLastSaved" TEXT NULL,
    "IsInMixedFolder" INTEGER NOT NULL,
    "Studios" TEXT NULL,
    "ExternalServiceId" TEXT NULL,
    "Tags" TEXT NULL,
    "IsFolder" INTEGER NOT NULL,
    "InheritedParentalRatingValue" INTEGER NULL,
    "UnratedType" TEXT NULL,
    "CriticRating" REAL NULL,
    "CleanName" TEXT NULL,
    "PresentationUniqueKey" TEXT NULL,
    "OriginalTitle" TEXT NULL,
    "PrimaryVersionId" TEXT NULL,
    "DateLastMediaAdded" TEXT NULL,
    "Album" TEXT NULL,
    "LUFS" REAL NULL,
    "NormalizationGain" REAL NULL,
    "IsVirtualItem" INTEGER NOT NULL,
    "SeriesName" TEXT NULL,
    "SeasonName" TEXT NULL,
    "ExternalSeriesId" TEXT NULL,
    "Tagline" TEXT NULL,
    "ProductionLocations" TEXT NULL,
    "ExtraIds" TEXT NULL,
    "TotalBitrate" INTEGER NULL,
    "ExtraType" INTEGER NULL,
    "Artists" TEXT NULL,
    "AlbumArtists" TEXT NULL,
    "ExternalId" TEXT NULL,
    "SeriesPresentationUniqueKey" TEXT NULL,
    "ShowId" TEXT NULL,
    "OwnerId" TEXT NULL,
    "Width" INTEGER NULL,
    "Height" INTEGER NULL,
    "Size" INTEGER NULL,
    "Audio" INTEGER NULL,
    "ParentId" TEXT NULL,
    "TopParentId" TEXT NULL,
    "SeasonId" TEXT NULL,
    "SeriesId" TEXT NULL,
    "InheritedParentalRatingSubValue" INTEGER NULL,
    CONSTRAINT "FK_BaseItems_BaseItems_ParentId" FOREIGN KEY ("ParentId") REFERENCES "BaseItems" ("Id")
        ON DELETE CASCADE
)"""

USER_DATA = """CREATE TABLE "UserData" (
    "ItemId" TEXT NOT NULL,
    "UserId" TEXT NOT NULL,
    "CustomDataKey" TEXT NOT NULL,
    "Rating" REAL NULL,
    "PlaybackPositionTicks" INTEGER NOT NULL,
    "PlayCount" INTEGER NOT NULL,
    "IsFavorite" INTEGER NOT NULL,
    "LastPlayedDate" TEXT NULL,
    "Played" INTEGER NOT NULL,
    "AudioStreamIndex" INTEGER NULL,
    "SubtitleStreamIndex" INTEGER NULL,
    "Likes" INTEGER NULL,
    "RetentionDate" TEXT NULL,
    CONSTRAINT "PK_UserData" PRIMARY KEY ("ItemId", "UserId", "CustomDataKey"),
    CONSTRAINT "FK_UserData_BaseItems_ItemId" FOREIGN KEY ("ItemId") REFERENCES "BaseItems" ("Id") ON DELETE CASCADE,
    CONSTRAINT "FK_UserData_Users_UserId" FOREIGN KEY ("UserId") REFERENCES "Users" ("Id") ON DELETE CASCADE
)"""

EF_ITEM_INDEXES = (
    'CREATE INDEX "IX_BaseItems_ParentId" ON "BaseItems" ("ParentId")',
    'CREATE INDEX "IX_BaseItems_Path" ON "BaseItems" ("Path")',
    'CREATE INDEX "IX_BaseItems_PresentationUniqueKey" ON "BaseItems" ("PresentationUniqueKey")',
    'CREATE INDEX "IX_BaseItems_Id_Type_IsFolder_IsVirtualItem" ON "BaseItems" '
    '("Id", "Type", "IsFolder", "IsVirtualItem")',
    'CREATE INDEX "IX_UserData_UserId" ON "UserData" ("UserId")',
    'CREATE INDEX "IX_UserData_ItemId_UserId_Played" ON "UserData" ("ItemId", "UserId", "Played")',
)


def jellyfin_db_statements(version: str) -> list[str]:
    """The statements that make the tables the migration reads in a ``jellyfin.db`` of ``version``
    ("10.10" or "10.11")."""
    parental = _PARENTAL_10_11 if version == "10.11" else _PARENTAL_10_10
    out = [EF_HISTORY, _USERS.replace("{parental}", parental), PERMISSIONS, PREFERENCES, *USER_INDEXES]
    if version == "10.11":
        out += [BASE_ITEMS, USER_DATA, *EF_ITEM_INDEXES]
    return out
