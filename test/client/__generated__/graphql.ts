/* eslint-disable */
/** Internal type. DO NOT USE DIRECTLY. */
type Exact<T extends { [key: string]: unknown }> = { [K in keyof T]: T[K] };
/** Internal type. DO NOT USE DIRECTLY. */
export type Incremental<T> = T | { [P in keyof T]?: P extends ' $fragmentName' | '__typename' ? T[P] : never };
import type { TypedDocumentNode as DocumentNode } from '@graphql-typed-document-node/core';
/** Conditions on the account profile (all must hold). */
export type AccountProfileFilter = {
  dateJoined?: DateTimeFilter | null | undefined;
  email?: StringFilter | null | undefined;
  firstName?: StringFilter | null | undefined;
  isActive?: BooleanFilter | null | undefined;
  isStaff?: BooleanFilter | null | undefined;
  isSuperuser?: BooleanFilter | null | undefined;
  lastLogin?: DateTimeFilter | null | undefined;
  lastName?: StringFilter | null | undefined;
};

/** Values of the account profile; omitted fields are left as they are. */
export type AccountProfileInput = {
  /** When the account joined (imported accounts keep their original date). (Staff only.) */
  dateJoined?: string | null | undefined;
  /** Contact address kept with the account (the `mail` profile holds the confirmed one). */
  email?: string | null | undefined;
  /** Given name. */
  firstName?: string | null | undefined;
  /** Inactive accounts cannot log in and hold no permissions. (Staff only.) */
  isActive?: boolean | null | undefined;
  /** May use administrative operations and read other users' private fields. (Staff only.) */
  isStaff?: boolean | null | undefined;
  /** Holds every permission. (Staff only.) */
  isSuperuser?: boolean | null | undefined;
  /** When the user last logged in. (Staff only.) */
  lastLogin?: string | null | undefined;
  /** Family name. */
  lastName?: string | null | undefined;
};

/** Conditions on a boolean value. */
export type BooleanFilter = {
  eq?: boolean | null | undefined;
  isNull?: boolean | null | undefined;
  ne?: boolean | null | undefined;
};

/**
 * A condition on a data-bag key (see `User.data`). The value is compared as the type of the
 * field the key resolves to. An unqualified key several profiles define is an overlap error.
 */
export type DataFilter = {
  /** Text contains this, case-insensitively. */
  contains?: string | null | undefined;
  eq?: unknown;
  in?: Array<unknown> | null | undefined;
  isNull?: boolean | null | undefined;
  /** A field name (`email`) or a qualified key (`mail.email`). */
  key: string;
};

/** Conditions on an instant (all given must hold). */
export type DateTimeFilter = {
  eq?: string | null | undefined;
  gt?: string | null | undefined;
  gte?: string | null | undefined;
  in?: Array<string> | null | undefined;
  isNull?: boolean | null | undefined;
  lt?: string | null | undefined;
  lte?: string | null | undefined;
  ne?: string | null | undefined;
};

/** How one user relates to another in the follow graph. */
export type FollowStatus =
  /** A follow in effect. */
  | 'CONFIRMED'
  /** No follow, and no pending request. */
  | 'NONE'
  /** A follow request waiting for the followee to confirm or reject it. */
  | 'PENDING';

/** Conditions on the mail profile (all must hold). */
export type MailProfileFilter = {
  email?: StringFilter | null | undefined;
  emailConfirmedAt?: DateTimeFilter | null | undefined;
};

/** Values of the mail profile; omitted fields are left as they are. */
export type MailProfileInput = {
  /** The address mail is sent to. Visible to its owner and staff only. */
  email?: string | null | undefined;
  /** When the owner proved they receive mail at `email` (null until then). (Staff only.) */
  emailConfirmedAt?: string | null | undefined;
};

/** Values for some or all installed profiles, keyed by profile name. */
export type ProfilesInput = {
  account?: AccountProfileInput | null | undefined;
  mail?: MailProfileInput | null | undefined;
  social?: SocialProfileInput | null | undefined;
};

/** Conditions on the social profile (all must hold). */
export type SocialProfileFilter = {
  bio?: StringFilter | null | undefined;
  followRequiresConfirmation?: BooleanFilter | null | undefined;
};

/** Values of the social profile; omitted fields are left as they are. */
export type SocialProfileInput = {
  /** A short public self-description. */
  bio?: string | null | undefined;
  /** When true, new followers must be confirmed by this user. */
  followRequiresConfirmation?: boolean | null | undefined;
};

export type SortDirection =
  | 'ASC'
  | 'DESC';

/** Conditions on a text value (all given must hold). Comparisons are by code point. */
export type StringFilter = {
  /** Contains this text, case-insensitively. */
  contains?: string | null | undefined;
  eq?: string | null | undefined;
  gt?: string | null | undefined;
  gte?: string | null | undefined;
  in?: Array<string> | null | undefined;
  /** True: the value is null. False: it is not. */
  isNull?: boolean | null | undefined;
  lt?: string | null | undefined;
  lte?: string | null | undefined;
  ne?: string | null | undefined;
  /** Starts with this text, case-insensitively. */
  startsWith?: string | null | undefined;
};

/** One sort key of a user list. */
export type UserOrder = {
  direction?: SortDirection | null | undefined;
  /**
   * `identifier`, `createdAt`, a qualified profile field (`mail.email`) or a data-bag key
   * (an unqualified key several profiles define is an overlap error).
   */
  field: string;
};

/** Which users to list. All conditions given must hold. */
export type UserWhere = {
  /** Every one of these must hold. */
  AND?: Array<UserWhere> | null | undefined;
  /** At least one of these must hold. */
  OR?: Array<UserWhere> | null | undefined;
  /** Conditions on the account profile. */
  account?: AccountProfileFilter | null | undefined;
  createdAt?: DateTimeFilter | null | undefined;
  /** Conditions on data-bag keys; all must hold. */
  data?: Array<DataFilter> | null | undefined;
  /**
   * Status the `follows` / `followedBy` relationship must have. `PENDING` and `NONE` only with
   * `follows` or `followedBy` the viewer's own id (else `FORBIDDEN`).
   */
  followStatus?: FollowStatus | null | undefined;
  /** Users followed by this user id (with `followStatus`, default `CONFIRMED`). */
  followedBy?: string | null | undefined;
  /** Users who follow this user id (with `followStatus`, default `CONFIRMED`). */
  follows?: string | null | undefined;
  identifier?: StringFilter | null | undefined;
  /** Conditions on the mail profile. */
  mail?: MailProfileFilter | null | undefined;
  /** Conditions on the social profile. */
  social?: SocialProfileFilter | null | undefined;
};

export type SignupMutationVariables = Exact<{
  identifier: string;
  password: string;
  profiles?: ProfilesInput | null | undefined;
}>;


export type SignupMutation = { signup: { token: string | null, expiresAt: string | null, user: { id: string, identifier: string } | null } | null };

export type LoginMutationVariables = Exact<{
  identifier: string;
  password: string;
  deviceToken?: string | null | undefined;
}>;


export type LoginMutation = { login: { secondFactorRequired: boolean, challenge: string | null, token: string | null, expiresAt: string | null, deviceToken: string | null, user: { id: string, identifier: string } | null } | null };

export type LogoutMutationVariables = Exact<{ [key: string]: never; }>;


export type LogoutMutation = { logout: boolean };

export type MeQueryVariables = Exact<{ [key: string]: never; }>;


export type MeQuery = { me: { id: string, identifier: string, hasUsablePassword: boolean, email: unknown, mail: { email: string | null, emailConfirmedAt: string | null }, account: { firstName: string | null, isActive: boolean } } | null };

export type MeDataQueryVariables = Exact<{
  key: string;
}>;


export type MeDataQuery = { me: { id: string, value: unknown } | null };

export type UserCardFragment = { id: string, identifier: string, account: { firstName: string | null } };

export type UsersQueryVariables = Exact<{
  first?: number | null | undefined;
  after?: string | null | undefined;
  where?: UserWhere | null | undefined;
  orderBy?: Array<UserOrder> | UserOrder | null | undefined;
}>;


export type UsersQuery = { users: { totalCount: number, edges: Array<{ cursor: string, node: { id: string, identifier: string, account: { firstName: string | null } } }>, pageInfo: { hasNextPage: boolean, endCursor: string | null } } };

export type FollowStateQueryVariables = Exact<{
  id: string;
}>;


export type FollowStateQuery = { user: { id: string, identifier: string, followersCount: number, viewerFollowStatus: FollowStatus } | null };

export type FollowMutationVariables = Exact<{
  userId: string;
}>;


export type FollowMutation = { follow: FollowStatus };

export type UnfollowMutationVariables = Exact<{
  userId: string;
}>;


export type UnfollowMutation = { unfollow: boolean };

export const UserCardFragmentDoc = {"kind":"Document","definitions":[{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UserCard"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"User"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"identifier"}},{"kind":"Field","name":{"kind":"Name","value":"account"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"firstName"}}]}}]}}]} as unknown as DocumentNode<UserCardFragment, unknown>;
export const SignupDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"Signup"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"identifier"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"password"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"profiles"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"ProfilesInput"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"signup"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"input"},"value":{"kind":"ObjectValue","fields":[{"kind":"ObjectField","name":{"kind":"Name","value":"identifier"},"value":{"kind":"Variable","name":{"kind":"Name","value":"identifier"}}},{"kind":"ObjectField","name":{"kind":"Name","value":"password"},"value":{"kind":"Variable","name":{"kind":"Name","value":"password"}}},{"kind":"ObjectField","name":{"kind":"Name","value":"profiles"},"value":{"kind":"Variable","name":{"kind":"Name","value":"profiles"}}}]}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"token"}},{"kind":"Field","name":{"kind":"Name","value":"expiresAt"}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"identifier"}}]}}]}}]}}]} as unknown as DocumentNode<SignupMutation, SignupMutationVariables>;
export const LoginDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"Login"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"identifier"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"password"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"deviceToken"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"login"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"identifier"},"value":{"kind":"Variable","name":{"kind":"Name","value":"identifier"}}},{"kind":"Argument","name":{"kind":"Name","value":"password"},"value":{"kind":"Variable","name":{"kind":"Name","value":"password"}}},{"kind":"Argument","name":{"kind":"Name","value":"deviceToken"},"value":{"kind":"Variable","name":{"kind":"Name","value":"deviceToken"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"secondFactorRequired"}},{"kind":"Field","name":{"kind":"Name","value":"challenge"}},{"kind":"Field","name":{"kind":"Name","value":"token"}},{"kind":"Field","name":{"kind":"Name","value":"expiresAt"}},{"kind":"Field","name":{"kind":"Name","value":"deviceToken"}},{"kind":"Field","name":{"kind":"Name","value":"user"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"identifier"}}]}}]}}]}}]} as unknown as DocumentNode<LoginMutation, LoginMutationVariables>;
export const LogoutDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"Logout"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"logout"}}]}}]} as unknown as DocumentNode<LogoutMutation, LogoutMutationVariables>;
export const MeDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Me"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"me"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"identifier"}},{"kind":"Field","name":{"kind":"Name","value":"hasUsablePassword"}},{"kind":"Field","name":{"kind":"Name","value":"mail"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"email"}},{"kind":"Field","name":{"kind":"Name","value":"emailConfirmedAt"}}]}},{"kind":"Field","name":{"kind":"Name","value":"account"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"firstName"}},{"kind":"Field","name":{"kind":"Name","value":"isActive"}}]}},{"kind":"Field","alias":{"kind":"Name","value":"email"},"name":{"kind":"Name","value":"data"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"key"},"value":{"kind":"StringValue","value":"email","block":false}}]}]}}]}}]} as unknown as DocumentNode<MeQuery, MeQueryVariables>;
export const MeDataDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"MeData"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"key"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"me"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","alias":{"kind":"Name","value":"value"},"name":{"kind":"Name","value":"data"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"key"},"value":{"kind":"Variable","name":{"kind":"Name","value":"key"}}}]}]}}]}}]} as unknown as DocumentNode<MeDataQuery, MeDataQueryVariables>;
export const UsersDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"Users"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"first"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"Int"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"after"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"String"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"where"}},"type":{"kind":"NamedType","name":{"kind":"Name","value":"UserWhere"}}},{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"orderBy"}},"type":{"kind":"ListType","type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"UserOrder"}}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"users"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"first"},"value":{"kind":"Variable","name":{"kind":"Name","value":"first"}}},{"kind":"Argument","name":{"kind":"Name","value":"after"},"value":{"kind":"Variable","name":{"kind":"Name","value":"after"}}},{"kind":"Argument","name":{"kind":"Name","value":"where"},"value":{"kind":"Variable","name":{"kind":"Name","value":"where"}}},{"kind":"Argument","name":{"kind":"Name","value":"orderBy"},"value":{"kind":"Variable","name":{"kind":"Name","value":"orderBy"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"edges"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"cursor"}},{"kind":"Field","name":{"kind":"Name","value":"node"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"FragmentSpread","name":{"kind":"Name","value":"UserCard"}}]}}]}},{"kind":"Field","name":{"kind":"Name","value":"pageInfo"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"hasNextPage"}},{"kind":"Field","name":{"kind":"Name","value":"endCursor"}}]}},{"kind":"Field","name":{"kind":"Name","value":"totalCount"}}]}}]}},{"kind":"FragmentDefinition","name":{"kind":"Name","value":"UserCard"},"typeCondition":{"kind":"NamedType","name":{"kind":"Name","value":"User"}},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"identifier"}},{"kind":"Field","name":{"kind":"Name","value":"account"},"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"firstName"}}]}}]}}]} as unknown as DocumentNode<UsersQuery, UsersQueryVariables>;
export const FollowStateDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"query","name":{"kind":"Name","value":"FollowState"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"id"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"user"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"id"},"value":{"kind":"Variable","name":{"kind":"Name","value":"id"}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"id"}},{"kind":"Field","name":{"kind":"Name","value":"identifier"}},{"kind":"Field","name":{"kind":"Name","value":"followersCount"}},{"kind":"Field","name":{"kind":"Name","value":"viewerFollowStatus"}}]}}]}}]} as unknown as DocumentNode<FollowStateQuery, FollowStateQueryVariables>;
export const FollowDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"Follow"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"userId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"follow"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"userId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"userId"}}}]}]}}]} as unknown as DocumentNode<FollowMutation, FollowMutationVariables>;
export const UnfollowDocument = {"kind":"Document","definitions":[{"kind":"OperationDefinition","operation":"mutation","name":{"kind":"Name","value":"Unfollow"},"variableDefinitions":[{"kind":"VariableDefinition","variable":{"kind":"Variable","name":{"kind":"Name","value":"userId"}},"type":{"kind":"NonNullType","type":{"kind":"NamedType","name":{"kind":"Name","value":"ID"}}}}],"selectionSet":{"kind":"SelectionSet","selections":[{"kind":"Field","name":{"kind":"Name","value":"unfollow"},"arguments":[{"kind":"Argument","name":{"kind":"Name","value":"userId"},"value":{"kind":"Variable","name":{"kind":"Name","value":"userId"}}}]}]}}]} as unknown as DocumentNode<UnfollowMutation, UnfollowMutationVariables>;