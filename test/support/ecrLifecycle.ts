// The ECR lifecycle rule every model repository gets, as the component and program tests expect it.

/** Build-cache tags expire after 30 days on every stack, whatever the image expiry settings. */
export const BUILD_CACHE_RULE = {
  tagStatus: "tagged",
  tagPrefixList: ["buildcache-"],
  maximumAgeLimit: 30,
  description: "Expire build-cache tags after 30 days",
};
