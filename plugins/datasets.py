"""Built-in datasets: embedded MovieLens latest-small and HetRec Last.fm."""

from __future__ import annotations

import csv
import dataclasses
from importlib import resources
from typing import ClassVar

import pandas as pd
from recframe_plugins.movielens import FORMATS, MovieLens, integer_ids, movie_features, read_movies, read_ratings
from recframe_plugins.table import interactions_from_table
from recframe_plugins.text import TextFile, read_text

from recframe import DataError, Dataset, Interactions, hookimpl
from recframe.hookspecs import Register
from recframe.paths import input_folder, present

EMBEDDED = resources.files("recframe_plugins") / "data" / "ml-latest-small"


class MovieLensLatestSmall(Dataset):
    """MovieLens latest-small (Sept. 2018): 100,836 ratings 0.5-5 of 9,742 movies by 610
    users. Shipped inside recframe under its GroupLens license (see its README.txt);
    ``path`` reads another copy (a folder with ratings.csv and movies.csv) instead."""

    path_params: ClassVar[tuple[str, ...]] = ("path",)

    def __init__(self, path: str | None = None) -> None:
        self.path = path

    def load(self) -> Interactions:
        if self.path is not None:
            return MovieLens("latest-small", self.path).load()
        with (
            resources.as_file(EMBEDDED / "ratings.csv.gz") as ratings_file,
            resources.as_file(EMBEDDED / "movies.csv.gz") as movies_file,
        ):
            data = read_ratings(ratings_file, FORMATS["latest-small"])
            movies = read_movies(movies_file, "utf-8")
            return dataclasses.replace(data, item_titles=movies["title"], item_features=movie_features(movies))


class HetRecLastFM(Dataset):
    """HetRec 2011 Last.fm 2K: play counts of 17,632 artists by 1,892 users (implicit
    feedback, ``user_artists.dat``), artist names from ``artists.dat``. Values are raw
    play counts: add ``preprocess: {transform: log1p}`` or ``binarize`` as needed; after
    ``log1p``, ``evaluation.relevance_threshold`` is on that scale (3.0 is about 20 plays)."""

    path_params: ClassVar[tuple[str, ...]] = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def load(self) -> Interactions:
        hint = "set dataset.params.path to the hetrec2011-lastfm-2k folder"
        folder = input_folder(self.path, hint)
        plays = TextFile(folder / "user_artists.dat", "\t")
        frame = read_text(plays, True, hint, "3 tab-separated fields (userID, artistID, weight)")
        data = interactions_from_table(frame, plays, {"user": "userID", "item": "artistID", "rating": "weight"})
        if present(folder / "artists.dat"):
            artists = TextFile(folder / "artists.dat", "\t", quoting=csv.QUOTE_NONE)
            names = read_text(artists, True, hint, "4 tab-separated fields (id, name, url, pictureURL)", dtype=str)
            if not {"id", "name"} <= set(names.columns):
                raise DataError(f"{artists.path}: expected the columns id and name, found {', '.join(names.columns)}")
            ids = integer_ids(names["id"], artists.at, "artist id")
            data = dataclasses.replace(data, item_titles=pd.Series(names["name"].to_numpy(), index=ids))
        return data


@hookimpl
def recframe_register_datasets(register: Register) -> None:
    register("movielens-latest-small", MovieLensLatestSmall)
    register("hetrec-lastfm", HetRecLastFM)
