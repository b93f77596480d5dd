/** Mastodon's Filter (v2), FilterKeyword, FilterStatus, FilterResult and the v1 Filter entities. */
import type { FilterMatch } from "../../features/filters/match";
import type { FilterStatusRow, FullFilter, KeywordRow, V1Filter } from "../../features/filters/service";

export interface FilterKeywordEntity {
  id: string;
  keyword: string;
  whole_word: boolean;
}

export interface FilterStatusEntity {
  id: string;
  status_id: string;
}

export interface FilterEntity {
  id: string;
  title: string;
  context: string[];
  expires_at: string | null;
  filter_action: string;
  keywords: FilterKeywordEntity[];
  statuses: FilterStatusEntity[];
}

export interface FilterResultEntity {
  filter: FilterEntity;
  keyword_matches: string[] | null;
  status_matches: string[] | null;
}

export interface V1FilterEntity {
  id: string;
  phrase: string;
  context: string[];
  whole_word: boolean;
  expires_at: string | null;
  irreversible: boolean;
}

export const renderKeyword = (k: KeywordRow): FilterKeywordEntity => ({ id: k.id, keyword: k.keyword, whole_word: k.whole_word });
export const renderFilterStatus = (s: FilterStatusRow): FilterStatusEntity => ({ id: s.id, status_id: s.status_id });

export function renderFilter(f: FullFilter): FilterEntity {
  return {
    id: f.id,
    title: f.title,
    context: f.context,
    expires_at: f.expires_at ? f.expires_at.toISOString() : null,
    filter_action: f.filter_action,
    keywords: f.keywords.map(renderKeyword),
    statuses: f.statuses.map(renderFilterStatus),
  };
}

export function renderFilterResult(match: FilterMatch): FilterResultEntity {
  return { filter: renderFilter(match.filter.filter), keyword_matches: match.keywordMatches, status_matches: match.statusMatches };
}

export function renderV1Filter({ keyword, filter }: V1Filter): V1FilterEntity {
  return {
    id: keyword.id,
    phrase: keyword.keyword,
    context: filter.context,
    whole_word: keyword.whole_word,
    expires_at: filter.expires_at ? filter.expires_at.toISOString() : null,
    irreversible: filter.filter_action === "hide",
  };
}
