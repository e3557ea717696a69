/* eslint-disable */
import * as types from './graphql.ts';
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';

/**
 * Map of all GraphQL operations in the project.
 *
 * This map has several performance disadvantages:
 * 1. It is not tree-shakeable, so it will include all operations in the project.
 * 2. It is not minifiable, so the string of a GraphQL query will be multiple times inside the bundle.
 * 3. It does not support dead code elimination, so it will add unused operations.
 *
 * Therefore it is highly recommended to use the babel or swc plugin for production.
 * Learn more about it here: https://the-guild.dev/graphql/codegen/plugins/presets/preset-client#reducing-bundle-size
 */
type Documents = {
    "mutation Signup($identifier: String!, $password: String!, $profiles: ProfilesInput) {\n  signup(\n    input: {identifier: $identifier, password: $password, profiles: $profiles}\n  ) {\n    token\n    expiresAt\n    user {\n      id\n      identifier\n    }\n  }\n}\n\nmutation Login($identifier: String!, $password: String!, $deviceToken: String) {\n  login(identifier: $identifier, password: $password, deviceToken: $deviceToken) {\n    secondFactorRequired\n    challenge\n    token\n    expiresAt\n    deviceToken\n    user {\n      id\n      identifier\n    }\n  }\n}\n\nmutation Logout {\n  logout\n}\n\nquery Me {\n  me {\n    id\n    identifier\n    hasUsablePassword\n    mail {\n      email\n      emailConfirmedAt\n    }\n    account {\n      firstName\n      isActive\n    }\n    email: data(key: \"email\")\n  }\n}\n\nquery MeData($key: String!) {\n  me {\n    id\n    value: data(key: $key)\n  }\n}\n\nfragment UserCard on User {\n  id\n  identifier\n  account {\n    firstName\n  }\n}\n\nquery Users($first: Int, $after: String, $where: UserWhere, $orderBy: [UserOrder!]) {\n  users(first: $first, after: $after, where: $where, orderBy: $orderBy) {\n    edges {\n      cursor\n      node {\n        ...UserCard\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    totalCount\n  }\n}\n\nquery FollowState($id: ID!) {\n  user(id: $id) {\n    id\n    identifier\n    followersCount\n    viewerFollowStatus\n  }\n}\n\nmutation Follow($userId: ID!) {\n  follow(userId: $userId)\n}\n\nmutation Unfollow($userId: ID!) {\n  unfollow(userId: $userId)\n}": typeof types.SignupDocument,
};
const documents: Documents = {
    "mutation Signup($identifier: String!, $password: String!, $profiles: ProfilesInput) {\n  signup(\n    input: {identifier: $identifier, password: $password, profiles: $profiles}\n  ) {\n    token\n    expiresAt\n    user {\n      id\n      identifier\n    }\n  }\n}\n\nmutation Login($identifier: String!, $password: String!, $deviceToken: String) {\n  login(identifier: $identifier, password: $password, deviceToken: $deviceToken) {\n    secondFactorRequired\n    challenge\n    token\n    expiresAt\n    deviceToken\n    user {\n      id\n      identifier\n    }\n  }\n}\n\nmutation Logout {\n  logout\n}\n\nquery Me {\n  me {\n    id\n    identifier\n    hasUsablePassword\n    mail {\n      email\n      emailConfirmedAt\n    }\n    account {\n      firstName\n      isActive\n    }\n    email: data(key: \"email\")\n  }\n}\n\nquery MeData($key: String!) {\n  me {\n    id\n    value: data(key: $key)\n  }\n}\n\nfragment UserCard on User {\n  id\n  identifier\n  account {\n    firstName\n  }\n}\n\nquery Users($first: Int, $after: String, $where: UserWhere, $orderBy: [UserOrder!]) {\n  users(first: $first, after: $after, where: $where, orderBy: $orderBy) {\n    edges {\n      cursor\n      node {\n        ...UserCard\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    totalCount\n  }\n}\n\nquery FollowState($id: ID!) {\n  user(id: $id) {\n    id\n    identifier\n    followersCount\n    viewerFollowStatus\n  }\n}\n\nmutation Follow($userId: ID!) {\n  follow(userId: $userId)\n}\n\nmutation Unfollow($userId: ID!) {\n  unfollow(userId: $userId)\n}": types.SignupDocument,
};

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 *
 *
 * @example
 * ```ts
 * const query = graphql(`query GetUser($id: ID!) { user(id: $id) { name } }`);
 * ```
 *
 * The query argument is unknown!
 * Please regenerate the types.
 */
export function graphql(source: string): unknown;

/**
 * The graphql function is used to parse GraphQL queries into a document that can be used by GraphQL clients.
 */
export function graphql(source: "mutation Signup($identifier: String!, $password: String!, $profiles: ProfilesInput) {\n  signup(\n    input: {identifier: $identifier, password: $password, profiles: $profiles}\n  ) {\n    token\n    expiresAt\n    user {\n      id\n      identifier\n    }\n  }\n}\n\nmutation Login($identifier: String!, $password: String!, $deviceToken: String) {\n  login(identifier: $identifier, password: $password, deviceToken: $deviceToken) {\n    secondFactorRequired\n    challenge\n    token\n    expiresAt\n    deviceToken\n    user {\n      id\n      identifier\n    }\n  }\n}\n\nmutation Logout {\n  logout\n}\n\nquery Me {\n  me {\n    id\n    identifier\n    hasUsablePassword\n    mail {\n      email\n      emailConfirmedAt\n    }\n    account {\n      firstName\n      isActive\n    }\n    email: data(key: \"email\")\n  }\n}\n\nquery MeData($key: String!) {\n  me {\n    id\n    value: data(key: $key)\n  }\n}\n\nfragment UserCard on User {\n  id\n  identifier\n  account {\n    firstName\n  }\n}\n\nquery Users($first: Int, $after: String, $where: UserWhere, $orderBy: [UserOrder!]) {\n  users(first: $first, after: $after, where: $where, orderBy: $orderBy) {\n    edges {\n      cursor\n      node {\n        ...UserCard\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    totalCount\n  }\n}\n\nquery FollowState($id: ID!) {\n  user(id: $id) {\n    id\n    identifier\n    followersCount\n    viewerFollowStatus\n  }\n}\n\nmutation Follow($userId: ID!) {\n  follow(userId: $userId)\n}\n\nmutation Unfollow($userId: ID!) {\n  unfollow(userId: $userId)\n}"): (typeof documents)["mutation Signup($identifier: String!, $password: String!, $profiles: ProfilesInput) {\n  signup(\n    input: {identifier: $identifier, password: $password, profiles: $profiles}\n  ) {\n    token\n    expiresAt\n    user {\n      id\n      identifier\n    }\n  }\n}\n\nmutation Login($identifier: String!, $password: String!, $deviceToken: String) {\n  login(identifier: $identifier, password: $password, deviceToken: $deviceToken) {\n    secondFactorRequired\n    challenge\n    token\n    expiresAt\n    deviceToken\n    user {\n      id\n      identifier\n    }\n  }\n}\n\nmutation Logout {\n  logout\n}\n\nquery Me {\n  me {\n    id\n    identifier\n    hasUsablePassword\n    mail {\n      email\n      emailConfirmedAt\n    }\n    account {\n      firstName\n      isActive\n    }\n    email: data(key: \"email\")\n  }\n}\n\nquery MeData($key: String!) {\n  me {\n    id\n    value: data(key: $key)\n  }\n}\n\nfragment UserCard on User {\n  id\n  identifier\n  account {\n    firstName\n  }\n}\n\nquery Users($first: Int, $after: String, $where: UserWhere, $orderBy: [UserOrder!]) {\n  users(first: $first, after: $after, where: $where, orderBy: $orderBy) {\n    edges {\n      cursor\n      node {\n        ...UserCard\n      }\n    }\n    pageInfo {\n      hasNextPage\n      endCursor\n    }\n    totalCount\n  }\n}\n\nquery FollowState($id: ID!) {\n  user(id: $id) {\n    id\n    identifier\n    followersCount\n    viewerFollowStatus\n  }\n}\n\nmutation Follow($userId: ID!) {\n  follow(userId: $userId)\n}\n\nmutation Unfollow($userId: ID!) {\n  unfollow(userId: $userId)\n}"];

export function graphql(source: string) {
  return (documents as any)[source] ?? {};
}

export type DocumentType<TDocumentNode extends DocumentNode<any, any>> = TDocumentNode extends DocumentNode<  infer TType,  any>  ? TType  : never;